/**
 * The signed-in session: tokens in localStorage (shared by every tab), the access token
 * refreshed shortly before it expires, and refresh-token rotation made safe across tabs.
 *
 * Refresh tokens work once and a reused one revokes its whole family, so two tabs must
 * never spend the same refresh token: refreshes run under a Web Lock, and a tab that gets
 * the lock after another tab refreshed uses the new pair from storage instead.
 */
export interface SessionUser {
  id: string;
  username: string;
  is_admin: boolean;
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  user: SessionUser;
}

export class SessionExpiredError extends Error {
  constructor(message = 'session expired') {
    super(message);
    this.name = 'SessionExpiredError';
  }
}

const STORAGE_KEY = 'herald.session';
const LOCK_NAME = 'herald.session.refresh';
/** Refresh when the access token has less than this left (clock skew, slow networks). */
const REFRESH_MARGIN_MS = 30_000;

type Listener = (tokens: Tokens | null, reason: 'signin' | 'refresh' | 'signout' | 'expired' | 'storage') => void;

/** Reads `exp` (ms) from a JWT without verifying it: only to decide when to refresh. */
export function tokenExpiry(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function isExpiring(jwt: string, now = Date.now()): boolean {
  const exp = tokenExpiry(jwt);
  return exp !== undefined && exp - now < REFRESH_MARGIN_MS;
}

export class Session {
  readonly #storage: Storage;
  readonly #httpUrl: string;
  readonly #listeners = new Set<Listener>();
  #inflight: Promise<string> | null = null;
  /** Stable until the next change: the `getSnapshot` of `useSyncExternalStore`. */
  #user: SessionUser | null;

  constructor(storage: Storage, httpUrl: string) {
    this.#storage = storage;
    this.#httpUrl = httpUrl;
    this.#user = this.tokens?.user ?? null;
  }

  get tokens(): Tokens | null {
    try {
      const raw = this.#storage.getItem(STORAGE_KEY);
      return raw ? (JSON.parse(raw) as Tokens) : null;
    } catch {
      return null;
    }
  }

  get user(): SessionUser | null {
    return this.#user;
  }

  /** For `useSyncExternalStore`: the same object until the session changes. */
  getUser = (): SessionUser | null => this.#user;

  subscribe = (listener: Listener): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  /** Called by the app for `storage` events: another tab signed in, refreshed or out. */
  storageChanged(key: string | null): void {
    if (key === STORAGE_KEY || key === null) this.#emit('storage');
  }

  async signIn(username: string, password: string): Promise<SessionUser> {
    const response = await fetch(`${this.#httpUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as { message?: string; error?: string };
      throw Object.assign(new Error(body.message ?? `login failed (${response.status})`), { status: response.status, code: body.error });
    }
    const tokens = (await response.json()) as Tokens;
    this.#save(tokens);
    this.#emit('signin');
    return tokens.user;
  }

  /** Replaces the stored user (e.g. after admin rights changed). */
  updateUser(user: SessionUser): void {
    const tokens = this.tokens;
    if (!tokens) return;
    this.#save({ ...tokens, user });
    this.#emit('refresh');
  }

  signOut(): void {
    this.#storage.removeItem(STORAGE_KEY);
    this.#emit('signout');
  }

  /** Ends the session because the server no longer accepts it (keeps nothing). */
  expire(): void {
    if (!this.tokens) return;
    this.#storage.removeItem(STORAGE_KEY);
    this.#emit('expired');
  }

  /**
   * A valid access token: the stored one, or a refreshed one when it is about to expire or
   * `forceRefresh` (the server refused it). Throws `SessionExpiredError` when signed out or
   * the refresh token was refused.
   */
  async accessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    const tokens = this.tokens;
    if (!tokens) throw new SessionExpiredError('not signed in');
    if (!options.forceRefresh && !isExpiring(tokens.access_token)) return tokens.access_token;
    return this.refresh(tokens.access_token);
  }

  /** Refreshes unless another caller (or tab) already replaced `stale`. One refresh at a time per tab. */
  refresh(stale: string): Promise<string> {
    this.#inflight ??= this.#refreshShared(stale).finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #refreshShared(stale: string): Promise<string> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    return locks ? locks.request(LOCK_NAME, () => this.#refreshLocked(stale)) : this.#refreshLocked(stale);
  }

  async #refreshLocked(stale: string): Promise<string> {
    const current = this.tokens;
    if (!current) throw new SessionExpiredError('not signed in');
    // Another tab refreshed while we waited for the lock: its pair is ours too.
    if (current.access_token !== stale && !isExpiring(current.access_token)) return current.access_token;
    let response: Response;
    try {
      response = await fetch(`${this.#httpUrl}/api/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: current.refresh_token }),
      });
    } catch (cause) {
      // Network failure: the session may still be fine; the caller retries later.
      throw new Error('could not reach the server to refresh the session', { cause });
    }
    if (response.status === 401 || response.status === 403) {
      this.expire();
      throw new SessionExpiredError();
    }
    if (!response.ok) throw new Error(`token refresh answered ${response.status}`);
    const next = (await response.json()) as Partial<Tokens>;
    const tokens: Tokens = {
      access_token: next.access_token ?? current.access_token,
      refresh_token: next.refresh_token ?? current.refresh_token,
      user: next.user ?? current.user,
    };
    this.#save(tokens);
    this.#emit('refresh');
    return tokens.access_token;
  }

  #save(tokens: Tokens): void {
    this.#storage.setItem(STORAGE_KEY, JSON.stringify(tokens));
  }

  #emit(reason: Parameters<Listener>[1]): void {
    const tokens = this.tokens;
    const user = tokens?.user ?? null;
    if (JSON.stringify(user) !== JSON.stringify(this.#user)) this.#user = user;
    for (const listener of [...this.#listeners]) listener(tokens, reason);
  }
}
