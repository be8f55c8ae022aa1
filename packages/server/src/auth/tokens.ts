import { createHmac, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

const ALGORITHMS = ['HS256'];
/**
 * The one rule for expiry, at connect and while connected: a token is valid until its `exp`,
 * with no leeway. A token refused at connect is never accepted later, and a connection closes
 * (4001 `token expired`) at the very moment a new connection with its token would be refused.
 */
export const EXPIRY_LEEWAY_SECONDS = 0;
/** `nbf` tolerance: tokens are signed with `nbf` = now on one node and used on another. */
export const NOT_BEFORE_LEEWAY_SECONDS = 5;

/** When a session authenticated with a token whose `exp` is `exp` must end (epoch ms). */
export function sessionDeadlineMs(exp: number): number {
  return (exp + EXPIRY_LEEWAY_SECONDS) * 1000;
}

/** Whether a token with this `exp` is past the one expiry rule (no leeway). */
export function isExpired(exp: number, nowMs = Date.now()): boolean {
  return sessionDeadlineMs(exp) <= nowMs;
}
const MAX_TOKEN_LENGTH = 4096;
const VERIFIED_CACHE_SIZE = 10_000;
/** The `iss` of Herald's own access tokens (not checked on them; tells them from platform tokens). */
export const OWN_ISSUER = 'herald';

/**
 * The key of Herald's own tokens when JWT_SECRET is shared with the platform: derived from
 * it, so a platform token never verifies as Herald's own and Herald's never as the platform's.
 */
export function ownSecretFrom(sharedSecret: string): string {
  return createHmac('sha256', sharedSecret).update('herald-own-tokens').digest('base64url');
}

/** Claims Herald puts in an access token. */
export interface AccessClaims {
  userId: number;
  isAdmin: boolean;
  username: string;
  /** Expiry, epoch seconds. */
  exp: number;
  /** Issue time, epoch seconds (0 when the token has none). */
  iat: number;
}

export type VerifyFailure =
  | 'missing'
  | 'malformed'
  | 'invalid'
  | 'expired'
  | 'not_yet_valid'
  | 'issuer'
  | 'audience'
  | 'key_not_found'
  | 'keys_unavailable'
  | 'revoked';

export class TokenError extends Error {
  constructor(readonly reason: VerifyFailure) {
    super(
      {
        missing: 'token missing',
        malformed: 'token malformed',
        invalid: 'token invalid',
        expired: 'token expired',
        not_yet_valid: 'token not yet valid',
        issuer: 'issuer not accepted',
        audience: 'audience not accepted',
        key_not_found: 'key not found',
        keys_unavailable: 'keys unavailable',
        revoked: 'token revoked',
      }[reason],
    );
    this.name = 'TokenError';
  }
}

/**
 * Reads JWT_SECRET, or the secret kept under DATA_DIR, generating it on first start.
 */
export function loadOrCreateSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

/** Issues and verifies HS256 access and refresh tokens with `jose`. */
export class TokenService {
  /**
   * The secret imported once as a WebCrypto HMAC key: jose (which signs and verifies with
   * WebCrypto) would otherwise import raw key bytes on every call, about half its cost.
   */
  readonly #key: Promise<webcrypto.CryptoKey>;
  /**
   * Access tokens whose signature was already checked, by their full text (signature
   * included). A client reconnecting with the same token skips the HMAC; time claims are
   * still checked on every use.
   */
  readonly #verified = new Map<string, AccessClaims & { nbf: number }>();
  readonly accessTtl: number;
  readonly refreshTtl: number;

  constructor(secret: string, accessTtlSeconds: number, refreshTtlSeconds: number) {
    this.#key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    this.accessTtl = accessTtlSeconds;
    this.refreshTtl = refreshTtlSeconds;
  }

  async signAccess(user: { id: number; username: string; is_admin: boolean }, ttlSeconds = this.accessTtl): Promise<string> {
    return new SignJWT({ adm: user.is_admin, name: user.username, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(OWN_ISSUER)
      .setSubject(String(user.id))
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .setJti(randomUUID())
      .sign(await this.#key);
  }

  async signRefresh(userId: number, family: string): Promise<{ token: string; jti: string; expiresAt: number }> {
    const jti = randomUUID();
    const exp = Math.floor(Date.now() / 1000) + this.refreshTtl;
    const token = await new SignJWT({ typ: 'refresh', fam: family })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(await this.#key);
    return { token, jti, expiresAt: exp * 1000 };
  }

  /** Verifies an access token: signature, algorithm, `exp` (required) and `nbf`. */
  async verifyAccess(token: string | undefined | null): Promise<AccessClaims> {
    const cached = token ? this.#verified.get(token) : undefined;
    if (cached) {
      if (isExpired(cached.exp)) throw new TokenError('expired');
      if (cached.nbf > Date.now() / 1000 + NOT_BEFORE_LEEWAY_SECONDS) throw new TokenError('not_yet_valid');
      const { nbf: _nbf, ...claims } = cached;
      return claims;
    }
    const payload = await this.#verify(token);
    if (payload.typ !== 'access') throw new TokenError('invalid');
    const userId = Number(payload.sub);
    if (!Number.isSafeInteger(userId) || userId <= 0) throw new TokenError('invalid');
    const claims = { userId, isAdmin: payload.adm === true, username: String(payload.name ?? ''), exp: Number(payload.exp), iat: Number(payload.iat ?? 0) };
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear();
    this.#verified.set(token!, { ...claims, nbf: Number(payload.nbf ?? 0) });
    return claims;
  }

  async verifyRefresh(token: string | undefined | null): Promise<{ userId: number; jti: string; family: string }> {
    const payload = await this.#verify(token);
    if (payload.typ !== 'refresh' || typeof payload.jti !== 'string' || typeof payload.fam !== 'string') throw new TokenError('invalid');
    return { userId: Number(payload.sub), jti: payload.jti, family: payload.fam };
  }

  async #verify(token: string | undefined | null) {
    if (!token) throw new TokenError('missing');
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new TokenError('malformed');
    try {
      const { payload } = await jwtVerify(token, await this.#key, {
        algorithms: ALGORITHMS,
        // jose has one tolerance for `nbf` and `exp`; `exp` is checked again here, without leeway.
        clockTolerance: NOT_BEFORE_LEEWAY_SECONDS,
        requiredClaims: ['exp', 'sub'],
      });
      if (!isExpired(Number(payload.exp))) return payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new TokenError('expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'nbf') throw new TokenError('not_yet_valid');
      if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) throw new TokenError('malformed');
      throw new TokenError('invalid');
    }
    throw new TokenError('expired');
  }
}
