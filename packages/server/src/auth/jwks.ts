import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from 'jose';

export interface JwksOptions {
  url: string;
  timeoutMs: number;
  cooldownMs: number;
  cacheMaxAgeMs: number;
  maxBytes: number;
  maxKeys: number;
}

/** Raised when a JWKS answer is too large or not a key set; the verifier reports `keys unavailable`. */
export class JwksBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksBodyError';
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new JwksBodyError(`JWKS body larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The fetch `jose` uses for the remote key set: the body is read up to `maxBytes`, must be a
 * JSON key set, and only its first `maxKeys` keys are kept.
 */
function cappedFetch(maxBytes: number, maxKeys: number): FetchImplementation {
  return async (url, init) => {
    const response = await fetch(url, init);
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      return response;
    }
    const text = await readCapped(response, maxBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new JwksBodyError('JWKS body is not JSON');
    }
    const keys = (parsed as { keys?: unknown })?.keys;
    if (!Array.isArray(keys)) throw new JwksBodyError('JWKS body has no "keys" array');
    return new Response(JSON.stringify({ keys: keys.slice(0, maxKeys) }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/**
 * A remote JSON Web Key Set with `jose`: cached for `cacheMaxAgeMs`, fetched again on an
 * unknown `kid` at most once per `cooldownMs`, each fetch bounded in time, size and keys.
 */
export function remoteKeySet(options: JwksOptions): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(options.url), {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs,
    cacheMaxAge: options.cacheMaxAgeMs,
    [customFetch]: cappedFetch(options.maxBytes, options.maxKeys),
  });
}
