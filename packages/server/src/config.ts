import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PlatformConfig } from './auth/platform.js';

/** Runtime configuration, read once from the environment at start-up. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** `sqlite:<file>` by default, or a `postgres://` URL from DATABASE_URL. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Namespace for every Redis channel and key (several deployments on one Redis). */
  redisPrefix: string;
  jwtSecret: string | undefined;
  /** Tokens the host platform issues (JWT_SECRET_SHARED, JWT_PUBLIC_KEY, JWT_JWKS_URL); undefined when none is set. */
  platform: PlatformConfig | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  corsOrigins: string[];
  logLevel: string;
  adminPassword: string | undefined;
  serviceKey: string | undefined;
  nodeId: string | undefined;
  heartbeatIntervalMs: number;
  maxPayloadBytes: number;
  maxMessagesPerSecond: number;
  maxConnectionsPerUser: number;
  maxConnectionsPerIp: number;
  sendBufferBytes: number;
  /** WS_WRITE_DELAY_MS: how long a live message may wait for later ones to share one socket write (0: until the current event-loop pass ends). */
  writeDelayMs: number;
  loginAttemptsPerMinute: number;
  /** Rows a user may have replayed (resume with `since`) per minute, per node. */
  resumeRowsPerMinute: number;
  /** Read-alls (WebSocket `mark_all_read` and HTTP) a user may ask per minute, per node. */
  readAllPerMinute: number;
  /** HTTP timeouts and the per-address connection cap (docs/limits.md). */
  http: HttpLimits;
  retentionDays: number;
  retentionMaxPerStream: number;
  shutdownGraceMs: number;
  trustProxy: boolean;
  staticDir: string | undefined;
  mediaDir: string;
  maxUploadBytes: number;
  transcodeConcurrency: number;
}

/** Timeouts and caps of plain HTTP connections (docs/limits.md). */
export interface HttpLimits {
  /** Whole request headers must arrive within this (slow headers). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (slow bodies; uploads too). */
  requestTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed. */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Simultaneous HTTP connections per client address; 0: no cap. */
  maxConnectionsPerIp: number;
}

/** A configuration value that cannot be used; names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

/** Accepts `15m`, `1h`, `7d`, `30s` or plain seconds. */
export function parseDuration(raw: string, name = 'duration'): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(raw.trim());
  if (!match) throw new ConfigError(name, `expected a duration like 30s, 15m, 1h or 7d, got "${raw}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0) throw new ConfigError(name, 'must be positive');
  return seconds;
}

function duration(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : parseDuration(raw, name);
}

/**
 * Parses BACKEND_CORS_ORIGINS: a comma-separated list or a JSON array (the FastAPI form).
 * `*` allows any origin.
 */
function origins(env: Env): string[] {
  const raw = env.BACKEND_CORS_ORIGINS?.trim();
  if (!raw) return ['http://localhost:8000', 'http://127.0.0.1:8000', 'http://localhost:5173', 'http://localhost:3001'];
  let list: unknown = raw.split(',');
  if (raw.startsWith('[')) {
    try {
      list = JSON.parse(raw);
    } catch {
      throw new ConfigError('BACKEND_CORS_ORIGINS', 'is not a valid JSON array');
    }
  }
  if (!Array.isArray(list)) throw new ConfigError('BACKEND_CORS_ORIGINS', 'expected a list of origins');
  return list.map((item) => {
    const origin = String(item).trim().replace(/\/$/, '');
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('BACKEND_CORS_ORIGINS', `"${origin}" is not an origin like https://admin.example.com`);
    }
    return origin;
  });
}

function url(env: Env, name: string, schemes: string[]): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!schemes.includes(parsed.protocol)) throw new ConfigError(name, `must start with ${schemes.join(' or ')}`);
  return raw;
}

function prefix(env: Env): string {
  const raw = env.REDIS_PREFIX ?? '';
  if (!/^[A-Za-z0-9:_.-]{0,64}$/.test(raw)) throw new ConfigError('REDIS_PREFIX', 'may hold only letters, digits and : _ . - (at most 64)');
  return raw;
}

const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'];
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

function list(env: Env, name: string): string[] | undefined {
  const items = env[name]?.split(',').map((item) => item.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

function algorithms(env: Env, name: string, allowed: string[], fallback: string[]): string[] {
  const chosen = list(env, name) ?? fallback;
  for (const alg of chosen) {
    if (!allowed.includes(alg)) throw new ConfigError(name, `"${alg}" is not allowed here; use some of ${allowed.join(', ')}`);
  }
  return chosen;
}

/** The algorithms a PEM public key can verify: RS and PS for RSA, ES by curve, EdDSA for Ed25519. */
function keyAlgorithms(pem: string): string[] {
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError('JWT_PUBLIC_KEY', 'is not a PEM public key (-----BEGIN PUBLIC KEY-----) or a file holding one');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
  if (type === 'ed25519') return ['EdDSA', 'Ed25519'];
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const alg = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }[curve ?? ''];
    if (alg) return [alg];
  }
  throw new ConfigError('JWT_PUBLIC_KEY', `key type ${type} is not supported; use RSA, EC (P-256/384/521) or Ed25519`);
}

function publicKeyPem(env: Env): string | undefined {
  const raw = env.JWT_PUBLIC_KEY?.trim();
  if (!raw) return undefined;
  if (raw.startsWith('-----BEGIN')) return raw.replace(/\\n/g, '\n');
  if (!existsSync(raw)) throw new ConfigError('JWT_PUBLIC_KEY', 'is neither a PEM key nor the path of a file holding one');
  return readFileSync(raw, 'utf8');
}

function jwksUrl(env: Env): string | undefined {
  const raw = url(env, 'JWT_JWKS_URL', ['https:', 'http:']);
  if (raw && new URL(raw).protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(new URL(raw).hostname)) {
    throw new ConfigError('JWT_JWKS_URL', 'must use https (http is allowed for localhost only)');
  }
  return raw;
}

function claim(env: Env, name: string, fallback: string): string {
  const raw = env[name]?.trim() || fallback;
  if (raw.length > 200 || /\s/.test(raw)) throw new ConfigError(name, 'must be a claim name or dotted path without spaces');
  if (name === 'JWT_ADMIN_CLAIM' && (raw.startsWith('=') || raw.endsWith('='))) {
    throw new ConfigError(name, 'expected a claim like is_admin, or <claim>=<role> like roles=admin');
  }
  return raw;
}

/** Platform token sources; undefined when none is configured (Herald's own tokens only). */
function platformConfig(env: Env, jwtSecret: string | undefined): PlatformConfig | undefined {
  const shared = bool(env, 'JWT_SECRET_SHARED', false);
  if (shared && !jwtSecret) throw new ConfigError('JWT_SECRET_SHARED', 'needs JWT_SECRET (the secret your platform signs with)');
  const pem = publicKeyPem(env);
  const jwks = jwksUrl(env);
  if (!shared && !pem && !jwks) return undefined;
  return {
    secret: shared ? { key: jwtSecret!, algorithms: algorithms(env, 'JWT_SECRET_ALGORITHMS', HMAC_ALGORITHMS, HMAC_ALGORITHMS) } : undefined,
    publicKey: pem ? { pem, algorithms: algorithms(env, 'JWT_PUBLIC_KEY_ALGORITHMS', keyAlgorithms(pem), keyAlgorithms(pem)) } : undefined,
    jwks: jwks
      ? {
          url: jwks,
          algorithms: algorithms(env, 'JWT_JWKS_ALGORITHMS', ASYMMETRIC_ALGORITHMS, ASYMMETRIC_ALGORITHMS),
          timeoutMs: int(env, 'JWT_JWKS_TIMEOUT_MS', 5000, 100, 60_000),
          cooldownMs: int(env, 'JWT_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
          cacheMaxAgeMs: int(env, 'JWT_JWKS_CACHE_MAX_AGE_MS', 600_000, 1000, 86_400_000),
          maxBytes: int(env, 'JWT_JWKS_MAX_BYTES', 65_536, 1024, 10_485_760),
          maxKeys: int(env, 'JWT_JWKS_MAX_KEYS', 50, 1, 1000),
        }
      : undefined,
    issuer: list(env, 'JWT_ISSUER'),
    audience: list(env, 'JWT_AUDIENCE'),
    userIdClaim: claim(env, 'JWT_USER_ID_CLAIM', 'sub'),
    adminClaim: claim(env, 'JWT_ADMIN_CLAIM', 'is_admin'),
    nameClaim: claim(env, 'JWT_NAME_CLAIM', 'username'),
  };
}

function httpLimits(env: Env, trustProxy: boolean): HttpLimits {
  const limits = {
    headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 3_600_000),
    requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 300_000, 100, 86_400_000),
    idleTimeoutMs: int(env, 'HTTP_IDLE_TIMEOUT_MS', 30_000, 100, 3_600_000),
    // Above nginx's upstream keepalive_timeout (60 s): a proxy must never reuse a connection the node just closed.
    keepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 72_000, 100, 3_600_000),
    // Behind a proxy every connection comes from the proxy: no cap unless asked for (nginx has limit_conn).
    maxConnectionsPerIp: int(env, 'HTTP_MAX_CONNECTIONS_PER_IP', trustProxy ? 0 : 256, 0, 1_000_000),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS', `must not exceed HTTP_REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs})`);
  }
  return limits;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const jwtSecret = env.JWT_SECRET || undefined;
  if (jwtSecret !== undefined && jwtSecret.length < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 characters');
  const serviceKey = env.HERALD_SERVICE_KEY || undefined;
  const trustProxy = bool(env, 'TRUST_PROXY', false);
  if (serviceKey !== undefined && serviceKey.length < 16) throw new ConfigError('HERALD_SERVICE_KEY', 'must be at least 16 characters');
  return {
    host: env.HOST?.trim() || '0.0.0.0',
    port: int(env, 'PORT', 8000, 0, 65535),
    dataDir: resolve(env.DATA_DIR?.trim() || './data'),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: prefix(env),
    jwtSecret,
    platform: platformConfig(env, jwtSecret),
    accessTokenTtlSeconds: duration(env, 'ACCESS_TOKEN_TTL', 15 * 60),
    refreshTokenTtlSeconds: duration(env, 'REFRESH_TOKEN_TTL', 30 * 86400),
    corsOrigins: origins(env),
    logLevel,
    adminPassword: env.HERALD_ADMIN_PASSWORD || undefined,
    serviceKey,
    nodeId: env.NODE_ID?.trim() || undefined,
    heartbeatIntervalMs: int(env, 'WS_HEARTBEAT_INTERVAL_MS', 30_000, 50, 3_600_000),
    maxPayloadBytes: int(env, 'WS_MAX_PAYLOAD_BYTES', 4096, 64, 1_048_576),
    maxMessagesPerSecond: int(env, 'WS_MAX_MESSAGES_PER_SECOND', 20, 1, 100_000),
    maxConnectionsPerUser: int(env, 'WS_MAX_CONNECTIONS_PER_USER', 10, 1, 100_000),
    maxConnectionsPerIp: int(env, 'WS_MAX_CONNECTIONS_PER_IP', 1000, 1, 1_000_000),
    sendBufferBytes: int(env, 'WS_SEND_BUFFER_BYTES', 1_048_576, 1024, 1_073_741_824),
    writeDelayMs: int(env, 'WS_WRITE_DELAY_MS', 0, 0, 1000),
    loginAttemptsPerMinute: int(env, 'LOGIN_ATTEMPTS_PER_MINUTE', 10, 1, 100_000),
    resumeRowsPerMinute: int(env, 'RESUME_ROWS_PER_MINUTE', 60_000, 1, 1_000_000_000),
    readAllPerMinute: int(env, 'READ_ALL_PER_MINUTE', 20, 1, 1_000_000),
    retentionDays: int(env, 'RETENTION_DAYS', 30, 1, 36_500),
    retentionMaxPerStream: int(env, 'RETENTION_MAX_PER_STREAM', 10_000, 10, 100_000_000),
    shutdownGraceMs: int(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    trustProxy,
    http: httpLimits(env, trustProxy),
    staticDir: env.STATIC_DIR?.trim() || undefined,
    mediaDir: resolve(env.MEDIA_DIR?.trim() || join(env.DATA_DIR?.trim() || './data', 'media')),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 1024 * 1024 * 1024, 1024, 1024 ** 4),
    transcodeConcurrency: int(env, 'TRANSCODE_CONCURRENCY', 1, 1, 64),
  };
}
