import type { FetchLike } from './environment.js';
import { ClientErrorCode, HeraldClientError } from './errors.js';

/**
 * Authenticated `GET` of a JSON resource. Failures are `ERR_HTTP` errors carrying the
 * HTTP `status` (so a caller can stop polling on 401 instead of looping).
 */
export async function getJson<T>(fetchImpl: FetchLike | undefined, url: string, path: string, token: string | null | undefined): Promise<T> {
  if (!fetchImpl) throw new HeraldClientError(ClientErrorCode.HTTP, 'no fetch available; pass the `fetch` option');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetchImpl(url, { method: 'GET', headers });
  } catch (cause) {
    throw new HeraldClientError(ClientErrorCode.HTTP, `GET ${path} failed`, { cause });
  }
  if (!response.ok) throw new HeraldClientError(ClientErrorCode.HTTP, `GET ${path} answered ${response.status}`, { status: response.status });
  return (await response.json()) as T;
}
