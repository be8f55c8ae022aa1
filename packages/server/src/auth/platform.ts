import { decodeProtectedHeader, errors as joseErrors, importSPKI, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import { identityFrom, type ClaimMapping } from './claims.js';
import { remoteKeySet, type JwksOptions } from './jwks.js';
import { NOT_BEFORE_LEEWAY_SECONDS, TokenError, isExpired } from './tokens.js';

/** Where platform tokens come from and how their claims map to a Herald user (see docs/identity.md). */
export interface PlatformConfig extends ClaimMapping {
  /** JWT_SECRET when JWT_SECRET_SHARED is on: HS256/384/512. */
  secret?: { key: string; algorithms: string[] };
  /** JWT_PUBLIC_KEY: one PEM public key. */
  publicKey?: { pem: string; algorithms: string[] };
  /** JWT_JWKS_URL: a remote key set. */
  jwks?: JwksOptions & { algorithms: string[] };
  issuer?: string[];
  audience?: string[];
}

/** A verified platform token. */
export interface PlatformIdentity {
  subject: string;
  isAdmin: boolean;
  name: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Issue time, epoch seconds (0 when the token has none). */
  iat: number;
}

interface Source {
  name: 'secret' | 'public_key' | 'jwks';
  algorithms: string[];
  /** The key for a token's algorithm, imported once (a raw key would be imported on every verification). */
  key(alg: string): Promise<CryptoKey> | JWTVerifyGetKey;
}

const HMAC_HASH: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/** Imports a key once per algorithm and keeps it. */
function perAlgorithm(load: (alg: string) => Promise<CryptoKey>): (alg: string) => Promise<CryptoKey> {
  const keys = new Map<string, Promise<CryptoKey>>();
  return (alg) => {
    let key = keys.get(alg);
    if (!key) keys.set(alg, (key = load(alg)));
    return key;
  };
}

const MAX_TOKEN_LENGTH = 8192;

/** Maps a `jose` failure to the class of refusal a client is told (never key material). */
function failureOf(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof joseErrors.JWTExpired) return new TokenError('expired');
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return new TokenError('issuer');
    if (error.claim === 'aud') return new TokenError('audience');
    if (error.claim === 'nbf') return new TokenError('not_yet_valid');
    return new TokenError('invalid');
  }
  if (error instanceof joseErrors.JWKSNoMatchingKey) return new TokenError('key_not_found');
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return new TokenError('malformed');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed || error instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('invalid');
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys || error instanceof joseErrors.JOSENotSupported) return new TokenError('invalid');
  // Timeouts, refused connections, non-200 answers, oversized or non-JSON bodies.
  return new TokenError('keys_unavailable');
}

/**
 * Verifies tokens the host platform issued: by shared secret, public key or JWKS, each with
 * its own algorithm allow-list (an HS token is only ever checked against the secret), then
 * `exp` (required), `nbf`, `iss` and `aud` when configured, then the claim mapping.
 */
export class PlatformVerifier {
  readonly #config: PlatformConfig;
  readonly #sources: Source[] = [];
  readonly #log: Logger | undefined;

  constructor(config: PlatformConfig, log?: Logger) {
    this.#config = config;
    this.#log = log;
    if (config.secret) {
      const raw = new TextEncoder().encode(config.secret.key);
      const key = perAlgorithm((alg) => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: HMAC_HASH[alg] }, false, ['verify']) as Promise<CryptoKey>);
      this.#sources.push({ name: 'secret', algorithms: config.secret.algorithms, key });
    }
    if (config.publicKey) {
      const pem = config.publicKey.pem;
      this.#sources.push({ name: 'public_key', algorithms: config.publicKey.algorithms, key: perAlgorithm((alg) => importSPKI(pem, alg)) });
    }
    if (config.jwks) {
      const keySet = remoteKeySet(config.jwks);
      this.#sources.push({ name: 'jwks', algorithms: config.jwks.algorithms, key: () => keySet });
    }
  }

  /** Whether a token's header names an algorithm one of the sources accepts. */
  accepts(token: string): boolean {
    const alg = this.#alg(token);
    return alg !== undefined && this.#sources.some((s) => s.algorithms.includes(alg));
  }

  async verify(token: string | undefined | null): Promise<PlatformIdentity> {
    if (!token) throw new TokenError('missing');
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new TokenError('malformed');
    const alg = this.#alg(token);
    if (alg === undefined) throw new TokenError('malformed');
    const candidates = this.#sources.filter((s) => s.algorithms.includes(alg));
    if (candidates.length === 0) throw new TokenError('invalid');
    let failure: TokenError = new TokenError('invalid');
    for (const source of candidates) {
      try {
        return this.#identity(await this.#verifyWith(source, alg, token));
      } catch (error) {
        failure = failureOf(error);
        if (failure.reason === 'keys_unavailable') this.#log?.warn({ err: error, source: source.name }, 'platform keys unavailable');
        // A later source may hold the key; time and claim failures are final.
        if (!['invalid', 'key_not_found', 'keys_unavailable'].includes(failure.reason)) throw failure;
      }
    }
    throw failure;
  }

  #alg(token: string): string | undefined {
    try {
      const { alg } = decodeProtectedHeader(token);
      return typeof alg === 'string' ? alg : undefined;
    } catch {
      return undefined;
    }
  }

  async #verifyWith(source: Source, alg: string, token: string): Promise<JWTPayload> {
    const options = {
      algorithms: source.algorithms,
      // jose has one tolerance for `nbf` and `exp`; `exp` is checked again below, without leeway.
      clockTolerance: NOT_BEFORE_LEEWAY_SECONDS,
      requiredClaims: ['exp'],
      issuer: this.#config.issuer,
      audience: this.#config.audience,
    };
    const key = source.key(alg);
    const { payload } = typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, await key, options);
    if (isExpired(Number(payload.exp))) throw new TokenError('expired');
    return payload;
  }

  #identity(payload: JWTPayload): PlatformIdentity {
    // Herald's own refresh tokens never pass as platform tokens, whatever key signed them.
    if (payload.typ === 'refresh') throw new TokenError('invalid');
    const identity = identityFrom(payload, this.#config);
    if (!identity) throw new TokenError('invalid');
    return { ...identity, exp: Number(payload.exp), iat: typeof payload.iat === 'number' ? payload.iat : 0 };
  }
}
