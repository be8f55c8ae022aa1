import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration } from './config.js';

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, host: '0.0.0.0', databaseUrl: undefined, redisUrl: undefined, heartbeatIntervalMs: 30_000, maxPayloadBytes: 4096 });
    expect(config.dataDir).toMatch(/data$/);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ BACKEND_CORS_ORIGINS: 'not-an-origin' }, 'BACKEND_CORS_ORIGINS'],
    [{ ACCESS_TOKEN_TTL: '15 minutes' }, 'ACCESS_TOKEN_TTL'],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY'],
  ])('names the bad variable in %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('reads CORS origins as a list or the FastAPI JSON form', () => {
    expect(loadConfig({ BACKEND_CORS_ORIGINS: 'http://localhost:3001,http://admin.example.com' }).corsOrigins).toEqual(['http://localhost:3001', 'http://admin.example.com']);
    expect(loadConfig({ BACKEND_CORS_ORIGINS: '["http://a.example/"]' }).corsOrigins).toEqual(['http://a.example']);
  });

  it('reads the HTTP limits, with no per-address cap behind a trusted proxy unless set', () => {
    expect(loadConfig({}).http).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 300_000, idleTimeoutMs: 30_000, keepAliveTimeoutMs: 72_000, maxConnectionsPerIp: 256 });
    expect(loadConfig({ TRUST_PROXY: 'true' }).http.maxConnectionsPerIp).toBe(0);
    expect(loadConfig({ TRUST_PROXY: 'true', HTTP_MAX_CONNECTIONS_PER_IP: '50' }).http.maxConnectionsPerIp).toBe(50);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS: must not exceed/);
  });

  it('parses durations', () => {
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('45')).toBe(45);
    expect(() => parseDuration('0s')).toThrow();
  });
});

describe('platform token configuration', () => {
  const SECRET = 'platform-secret-platform-secret-0123';

  it('is off unless a platform source is set, and on with the shared secret', () => {
    expect(loadConfig({ JWT_SECRET: SECRET }).platform).toBeUndefined();
    expect(loadConfig({ JWT_SECRET: SECRET, JWT_SECRET_SHARED: 'true' }).platform).toMatchObject({
      secret: { algorithms: ['HS256', 'HS384', 'HS512'] },
      userIdClaim: 'sub',
      adminClaim: 'is_admin',
      nameClaim: 'username',
    });
    expect(loadConfig({ JWT_JWKS_URL: 'http://127.0.0.1:9/jwks', JWT_ISSUER: 'a, b', JWT_AUDIENCE: 'herald' }).platform).toMatchObject({ issuer: ['a', 'b'], audience: ['herald'] });
  });

  it.each([
    [{ JWT_SECRET_SHARED: 'true' }, 'JWT_SECRET_SHARED'],
    [{ JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }, 'JWT_PUBLIC_KEY'],
    [{ JWT_PUBLIC_KEY: '/no/such/key.pem' }, 'JWT_PUBLIC_KEY'],
    [{ JWT_JWKS_URL: 'http://keys.example/jwks' }, 'JWT_JWKS_URL'],
    [{ JWT_JWKS_URL: 'https://keys.example/jwks', JWT_JWKS_ALGORITHMS: 'RS256,HS256' }, 'JWT_JWKS_ALGORITHMS'],
    [{ JWT_SECRET: SECRET, JWT_SECRET_SHARED: 'true', JWT_SECRET_ALGORITHMS: 'RS256' }, 'JWT_SECRET_ALGORITHMS'],
    [{ JWT_JWKS_URL: 'https://keys.example/jwks', JWT_ADMIN_CLAIM: 'roles=' }, 'JWT_ADMIN_CLAIM'],
    [{ JWT_JWKS_URL: 'https://keys.example/jwks', JWT_JWKS_MAX_KEYS: '0' }, 'JWT_JWKS_MAX_KEYS'],
  ])('names the bad variable in %o', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
  });

  it('derives the algorithms of a public key from its type', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const pem = (type: 'ec' | 'ed25519') =>
      (type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(loadConfig({ JWT_PUBLIC_KEY: pem('ec') }).platform?.publicKey?.algorithms).toEqual(['ES256']);
    expect(loadConfig({ JWT_PUBLIC_KEY: pem('ed25519') }).platform?.publicKey?.algorithms).toEqual(['EdDSA', 'Ed25519']);
    expect(() => loadConfig({ JWT_PUBLIC_KEY: pem('ec'), JWT_PUBLIC_KEY_ALGORITHMS: 'RS256' })).toThrow(/^JWT_PUBLIC_KEY_ALGORITHMS:/);
  });
});
