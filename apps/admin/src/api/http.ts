import { SessionExpiredError, type Session } from '../auth/session.js';

/** An HTTP error from the API, with Herald's `{error, message, statusCode}` body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;

  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** JSON body, or a FormData sent as multipart. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
}

/**
 * Authenticated JSON requests. A 401 gets one retry with a refreshed token; a refresh the
 * server refuses ends the session (`SessionExpiredError`), which sends the user to sign in.
 */
export class Api {
  readonly #session: Session;
  readonly #base: string;

  constructor(session: Session, base: string) {
    this.#session = session;
    this.#base = base;
  }

  get<T>(path: string, query?: ApiRequest['query']): Promise<T> {
    return this.request<T>(path, { query });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', body });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body });
  }

  url(path: string, query?: ApiRequest['query']): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== '') params.set(key, String(value));
    const search = params.toString();
    return `${this.#base}${path}${search ? `?${search}` : ''}`;
  }

  async request<T>(path: string, init: ApiRequest = {}): Promise<T> {
    let token = await this.#session.accessToken();
    let response = await this.#send(path, init, token);
    if (response.status === 401) {
      token = await this.#session.refresh(token);
      response = await this.#send(path, init, token);
      if (response.status === 401) {
        this.#session.expire();
        throw new SessionExpiredError();
      }
    }
    return readJson<T>(response);
  }

  #send(path: string, init: ApiRequest, token: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${token}` };
    let body: BodyInit | undefined;
    if (init.body instanceof FormData) body = init.body;
    else if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    return fetch(this.url(path, init.query), { method: init.method ?? 'GET', headers, body });
  }
}

export async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. a proxy's error page): reported below by status
  }
  if (!response.ok) {
    const error = (body ?? {}) as { message?: string; error?: string };
    throw new ApiError(response.status, error.message ?? `HTTP ${response.status}`, error.error);
  }
  return body as T;
}
