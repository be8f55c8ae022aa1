import type { TokenProvider } from './types.js';

/** The `localStorage` key the default token provider reads (the specification stores the JWT there). */
export const DEFAULT_TOKEN_KEY = 'token';

interface StorageLike {
  getItem(key: string): string | null;
}

function browserStorage(): StorageLike | undefined {
  try {
    const storage = (globalThis as { localStorage?: StorageLike }).localStorage;
    return storage && typeof storage.getItem === 'function' ? storage : undefined;
  } catch {
    return undefined; // a sandboxed frame throws on access
  }
}

/**
 * The token provider used when none is given: `localStorage.getItem('token')` in a browser,
 * read at every connect (so a token stored after sign-in is picked up), `undefined` where
 * there is no `localStorage` (Node: pass `getToken`).
 */
export function localStorageTokenProvider(key = DEFAULT_TOKEN_KEY): TokenProvider | undefined {
  const storage = browserStorage();
  if (!storage) return undefined;
  return () => {
    try {
      return storage.getItem(key);
    } catch {
      return null;
    }
  };
}

/**
 * The claims of a JWT, decoded without verifying it (the server verifies): used only to
 * pick an endpoint or a sharing key, never to grant anything. `undefined` when the token
 * is not a readable JWT.
 */
export function readClaims(token: string | null | undefined): Record<string, unknown> | undefined {
  if (!token) return undefined;
  const part = token.split('.')[1];
  if (!part || part.length > 16_384) return undefined;
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const binary = atob(base64);
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The endpoint rule of `isAdmin: 'auto'`: the admin endpoint when the token says the user
 * is an admin (`is_admin: true`, the specification's claim, or `adm: true`, Herald's own),
 * the user endpoint otherwise (also for tokens that are not readable JWTs).
 */
export function tokenSaysAdmin(token: string | null | undefined): boolean {
  const claims = readClaims(token);
  return claims?.is_admin === true || claims?.adm === true;
}
