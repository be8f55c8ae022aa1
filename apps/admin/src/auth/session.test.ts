// @vitest-environment node
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Session, SessionExpiredError, isExpiring, tokenExpiry, type Tokens } from './session.js';

/** An unsigned JWT-shaped token: the console only reads `exp`. */
const jwt = (expSeconds: number, tag = '') => `h.${Buffer.from(JSON.stringify({ exp: expSeconds, tag })).toString('base64url')}.s`;
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

class MemoryStorage {
  #map = new Map<string, string>();
  getItem = (key: string) => this.#map.get(key) ?? null;
  setItem = (key: string, value: string) => void this.#map.set(key, value);
  removeItem = (key: string) => void this.#map.delete(key);
}

const user = { id: '1', username: 'root', is_admin: true };

function signedIn(storage: MemoryStorage, access: string, refresh = 'r1'): void {
  storage.setItem('herald.session', JSON.stringify({ access_token: access, refresh_token: refresh, user } satisfies Tokens));
}

afterEach(() => vi.unstubAllGlobals());

describe('Session', () => {
  it('reads exp from a token and refreshes 30 s before it', () => {
    expect(tokenExpiry(jwt(1000))).toBe(1_000_000);
    expect(tokenExpiry('not a jwt')).toBeUndefined();
    expect(isExpiring(jwt(inSeconds(10)))).toBe(true);
    expect(isExpiring(jwt(inSeconds(600)))).toBe(false);
  });

  it('spends a refresh token once, also when two tabs find the access token stale', async () => {
    const storage = new MemoryStorage();
    signedIn(storage, jwt(inSeconds(5), 'old'));
    const fresh = jwt(inSeconds(900), 'new');
    const fetch = vi.fn(async (_url: string, init: RequestInit) => {
      expect(JSON.parse(String(init.body))).toEqual({ refresh_token: 'r1' });
      await new Promise((r) => setTimeout(r, 10));
      return new Response(JSON.stringify({ access_token: fresh, refresh_token: 'r2' }), { status: 200 });
    });
    vi.stubGlobal('fetch', fetch);
    const tabA = new Session(storage as unknown as Storage, '');
    const tabB = new Session(storage as unknown as Storage, '');

    // Concurrent callers in one tab share one refresh…
    await expect(Promise.all([tabA.accessToken(), tabA.accessToken()])).resolves.toEqual([fresh, fresh]);
    // …and another tab holding the old token picks up the new pair instead of refreshing again.
    const stale = jwt(inSeconds(5), 'old');
    await expect(tabB.refresh(stale)).resolves.toBe(fresh);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(tabB.tokens?.refresh_token).toBe('r2');
  });

  it('ends the session when the server refuses the refresh token', async () => {
    const storage = new MemoryStorage();
    signedIn(storage, jwt(inSeconds(5)));
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{"error":"ERR_TOKEN_REUSED"}', { status: 401 })));
    const session = new Session(storage as unknown as Storage, '');
    const reasons: string[] = [];
    session.subscribe((_tokens, reason) => reasons.push(reason));
    await expect(session.accessToken()).rejects.toBeInstanceOf(SessionExpiredError);
    expect(reasons).toEqual(['expired']);
    expect(session.user).toBeNull();
    expect(storage.getItem('herald.session')).toBeNull();
  });

  it('keeps the session through a network failure during refresh', async () => {
    const storage = new MemoryStorage();
    signedIn(storage, jwt(inSeconds(5)));
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('fetch failed'))));
    const session = new Session(storage as unknown as Storage, '');
    await expect(session.accessToken()).rejects.not.toBeInstanceOf(SessionExpiredError);
    expect(session.user).toEqual(user);
  });
});
