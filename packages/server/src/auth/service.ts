import { randomBytes, randomUUID } from 'node:crypto';
import type { Store, User } from '../store/index.js';
import { conflict, invalid, unauthorized } from '../errors.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { decodeJwt } from 'jose';
import type { Identities } from './identities.js';
import type { PlatformVerifier } from './platform.js';
import { OWN_ISSUER, TokenError, TokenService, type AccessClaims } from './tokens.js';

export interface LoginResult {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  user: { id: string; username: string; is_admin: boolean };
}

/**
 * An authenticated principal: the token's claims checked against the current user row. For a
 * platform user, `user.is_admin` and `user.username` come from the token.
 */
export interface Principal {
  user: User;
  claims: AccessClaims;
  /** The user's id on the wire and in every API (see `Identities`). */
  publicId: string;
}

const USERNAME = /^[A-Za-z0-9_.-]{1,64}$/;
const USER_CACHE_TTL_MS = 30_000;
const USER_CACHE_MAX = 50_000;

/** Users, passwords and token issuance on top of the store. */
export class AuthService {
  /** Users seen by recent authentications; `forget()` drops one when it changes (on every node). */
  readonly #users = new Map<number, { user: User; at: number }>();

  /** Platform subjects already provisioned, to their internal id. */
  readonly #subjects = new Map<string, number>();

  constructor(
    readonly store: Store,
    readonly tokens: TokenService,
    readonly identities: Identities,
    readonly platform?: PlatformVerifier,
  ) {}

  /** Drops a cached user after an update or deletion, so the next authentication reads the store. */
  forget(userId: number): void {
    this.#users.delete(userId);
  }

  async #user(id: number): Promise<User | undefined> {
    const cached = this.#users.get(id);
    if (cached && Date.now() - cached.at < USER_CACHE_TTL_MS) return cached.user;
    const user = await this.store.users.findById(id);
    if (this.#users.size >= USER_CACHE_MAX) this.#users.clear();
    if (user) this.#users.set(id, { user, at: Date.now() });
    else this.#users.delete(id);
    return user;
  }

  async createUser(username: string, password: string, isAdmin: boolean): Promise<User> {
    if (!USERNAME.test(username)) throw invalid('username must be 1-64 letters, digits, ".", "_" or "-"');
    if (password.length < 8 || password.length > 256) throw invalid('password must be 8-256 characters');
    if (await this.store.users.findByUsername(username)) throw conflict(`user "${username}" already exists`);
    return this.store.users.create(username, await hashPassword(password), isAdmin);
  }

  /** Checks credentials; wrong username and wrong password are indistinguishable. */
  async login(username: string, password: string): Promise<LoginResult> {
    const user = await this.store.users.findByUsername(username);
    const ok = await verifyPassword(password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !ok) throw unauthorized('invalid username or password');
    return this.#issue(user, randomUUID());
  }

  /** Rotates a refresh token: each one works once; reuse revokes its whole family. */
  async refresh(refreshToken: string): Promise<LoginResult> {
    let claims;
    try {
      claims = await this.tokens.verifyRefresh(refreshToken);
    } catch (error) {
      throw unauthorized(error instanceof TokenError ? `refresh ${error.message}` : 'refresh token invalid');
    }
    const use = await this.store.users.useRefreshToken(claims.jti);
    if (!use.ok) {
      const reason = use.reason === 'reused' ? 'refresh token already used; sign in again' : `refresh token ${use.reason}`;
      throw unauthorized(reason);
    }
    const user = await this.store.users.findById(use.userId);
    if (!user) throw unauthorized('user no longer exists');
    return this.#issue(user, use.family);
  }

  /**
   * Verifies an access token, Herald's own or (when configured) the platform's, and loads its
   * user: a Herald account must still exist, a platform user is provisioned on first use.
   * Tokens issued at or before the user's revocation time are refused.
   */
  async authenticate(token: string | undefined | null): Promise<Principal> {
    // Herald's own tokens say so (typ access, iss herald); a token no platform source could
    // check (e.g. HS256 without a shared secret) is tried as Herald's own too.
    const platform = this.platform && token && !isOwnToken(token) && this.platform.accepts(token);
    const principal = platform ? await this.#fromPlatform(token) : await this.#own(token);
    const cutoff = principal.user.tokens_valid_after;
    if (cutoff > 0 && principal.claims.iat <= cutoff) throw new TokenError('revoked');
    return principal;
  }

  async #own(token: string | undefined | null): Promise<Principal> {
    const claims = await this.tokens.verifyAccess(token);
    const user = await this.#user(claims.userId);
    if (!user || user.source !== 'herald') throw new TokenError('invalid');
    return { user, claims, publicId: this.identities.publicId(user) };
  }

  async #fromPlatform(token: string): Promise<Principal> {
    const identity = await this.platform!.verify(token);
    const user = await this.#platformUser(identity.subject);
    const claims: AccessClaims = { userId: user.id, isAdmin: identity.isAdmin, username: identity.name, exp: identity.exp, iat: identity.iat };
    return { user: { ...user, is_admin: identity.isAdmin, username: identity.name }, claims, publicId: identity.subject };
  }

  async #platformUser(subject: string): Promise<User> {
    const known = this.#subjects.get(subject);
    const cached = known === undefined ? undefined : await this.#user(known);
    if (cached) return cached;
    const user = await this.identities.provision(subject);
    if (this.#subjects.size >= USER_CACHE_MAX) this.#subjects.clear();
    this.#subjects.set(subject, user.id);
    this.#users.set(user.id, { user, at: Date.now() });
    return user;
  }

  /** Signs the user out of one session: revokes the refresh token's family. */
  async logout(refreshToken: string): Promise<void> {
    let claims;
    try {
      claims = await this.tokens.verifyRefresh(refreshToken);
    } catch (error) {
      throw unauthorized(error instanceof TokenError ? `refresh ${error.message}` : 'refresh token invalid');
    }
    await this.store.users.revokeRefreshFamily(claims.family);
  }

  /**
   * Sets a Herald account's password, revokes every refresh token of the user and refuses the
   * access tokens issued until now (their sockets are closed by the caller through revalidation).
   */
  async changePassword(userId: number, password: string): Promise<User | undefined> {
    if (password.length < 8 || password.length > 256) throw invalid('password must be 8-256 characters');
    const user = await this.store.users.findById(userId);
    if (!user) return undefined;
    if (user.source !== 'herald') throw invalid('platform users have no Herald password');
    await this.store.users.setPassword(userId, await hashPassword(password));
    await this.store.users.revokeRefreshTokensOf(userId);
    await this.revokeTokens(userId);
    return user;
  }

  /** Refuses every token of the user issued until now (the caller closes the user's sockets). */
  async revokeTokens(userId: number): Promise<boolean> {
    const ok = await this.store.users.revokeTokensBefore(userId, Math.floor(Date.now() / 1000));
    this.forget(userId);
    return ok;
  }

  /** Creates `admin` on first start when no administrator exists. Returns a generated password, if any. */
  async ensureAdmin(configuredPassword: string | undefined): Promise<{ created: boolean; password?: string }> {
    if ((await this.store.users.countAdmins()) > 0) return { created: false };
    const existing = await this.store.users.findByUsername('admin');
    if (existing) {
      await this.store.users.setAdmin(existing.id, true);
      return { created: false };
    }
    const password = configuredPassword ?? randomBytes(12).toString('base64url');
    await this.createUser('admin', password, true);
    return { created: true, password: configuredPassword ? undefined : password };
  }

  async #issue(user: User, family: string): Promise<LoginResult> {
    const access = await this.tokens.signAccess(user);
    const refresh = await this.tokens.signRefresh(user.id, family);
    await this.store.users.saveRefreshToken(refresh.jti, user.id, family, refresh.expiresAt);
    return {
      access_token: access,
      refresh_token: refresh.token,
      token_type: 'bearer',
      expires_in: this.tokens.accessTtl,
      user: { id: this.identities.wireId(user), username: user.username, is_admin: user.is_admin },
    };
  }
}

/** Whether a token claims to be one of Herald's own access tokens (then its own failure is the answer). */
function isOwnToken(token: string): boolean {
  try {
    const payload = decodeJwt(token);
    return payload.typ === 'access' && payload.iss === OWN_ISSUER;
  } catch {
    return false;
  }
}
