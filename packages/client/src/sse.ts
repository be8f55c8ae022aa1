import { CloseCode, ErrorCode, errorMessage, PONG, statsMessage, type ConnectionStats } from '@herald/protocol';
import { ReadyState, type WebSocketLike } from './environment.js';

/** What the SSE transport needs of `fetch`: a streamed response body (every browser's and Node's `fetch`). */
export type StreamFetch = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; headers?: { get(name: string): string | null }; body: { getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }> } } | null; json(): Promise<unknown> }>;

/**
 * How long a stream may stay silent (no event, no heartbeat comment) and still answer the
 * client's `ping`: the server writes a comment every `WS_HEARTBEAT_INTERVAL_MS` (30 s by
 * default), so 75 s is two and a half of its intervals.
 */
export const SSE_SILENCE_MS = 75_000;

/** Close code reported when the stream ended without an `event: close` (as a WebSocket reports 1006). */
const ABNORMAL = 1006;

/** The status of a refused request, as the close code a WebSocket would have carried. */
function closeCodeOfStatus(status: number): number {
  if (status === 401) return CloseCode.UNAUTHORIZED;
  if (status === 403) return CloseCode.FORBIDDEN;
  if (status === 429) return CloseCode.TOO_MANY_CONNECTIONS;
  if (status === 503) return CloseCode.GOING_AWAY;
  return ABNORMAL;
}

/**
 * Herald's SSE endpoint dressed as a `WebSocketLike`, so the connection's state machine
 * (token, backoff, close codes, resume) is the same for both transports. The stream is read
 * with `fetch` (the token goes in the `Authorization` header, or `?token=` with
 * `tokenTransport: 'query'`); `event: close` carries the close code and reason; commands
 * go over HTTP: `mark_read` → `POST /api/v1/notifications/read`, `mark_all_read` →
 * `POST /api/v1/notifications/read-all`, `get_stats` → `GET /api/v1/ws/stats`, `auth` →
 * `POST /api/v1/sse/refresh` with the session the stream's `herald-session` header named; `ping` is
 * answered here while the stream is not silent (see `SSE_SILENCE_MS`).
 */
export class SseSocket implements WebSocketLike {
  readyState: number = ReadyState.CONNECTING;
  readonly protocol = '';
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null = null;
  onclose: ((event: any) => void) | null = null;
  onerror: ((event: any) => void) | null = null;
  onmessage: ((event: any) => void) | null = null;
  /* eslint-enable @typescript-eslint/no-explicit-any */

  readonly #abort = new AbortController();
  readonly #fetch: StreamFetch;
  readonly #httpUrl: string;
  #token: string;
  /** The stream's session id (`herald-session`), for the token refresh over HTTP. */
  #session: string | undefined;
  #close: { code: number; reason: string } | undefined;
  #heardAt = Date.now();

  constructor(url: string, options: { token: string; tokenInQuery: boolean; httpUrl: string; fetch: StreamFetch }) {
    this.#fetch = options.fetch;
    this.#httpUrl = options.httpUrl;
    this.#token = options.token;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (!options.tokenInQuery) headers.authorization = `Bearer ${options.token}`;
    void this.#run(url, headers);
  }

  send(data: string): void {
    if (this.readyState !== ReadyState.OPEN) return;
    if (data === 'ping') {
      if (Date.now() - this.#heardAt < SSE_SILENCE_MS) this.#deliverLater(PONG);
      return;
    }
    let command: { type?: unknown; ids?: unknown; token?: unknown };
    try {
      command = JSON.parse(data) as typeof command;
    } catch {
      this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.INVALID_JSON, 'commands are JSON objects')));
      return;
    }
    if (command.type === 'get_stats') void this.#stats();
    else if (command.type === 'mark_read') void this.#post('/api/v1/notifications/read', { ids: command.ids });
    else if (command.type === 'mark_all_read') void this.#post('/api/v1/notifications/read-all');
    else if (command.type === 'auth' && typeof command.token === 'string') void this.#refresh(command.token);
    else this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.UNKNOWN_COMMAND, `${String(command.type)} has no HTTP equivalent over SSE`)));
  }

  close(): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    this.#abort.abort();
  }

  async #run(url: string, headers: Record<string, string>): Promise<void> {
    let response;
    try {
      response = await this.#fetch(url, { method: 'GET', headers, signal: this.#abort.signal });
    } catch (error) {
      return this.#ended(error);
    }
    if (!response.ok || !response.body) return this.#ended(undefined, closeCodeOfStatus(response.status));
    if (this.readyState !== ReadyState.CONNECTING) return;
    this.readyState = ReadyState.OPEN;
    this.#session = response.headers?.get('herald-session') ?? undefined;
    this.onopen?.({});
    try {
      await this.#read(response.body.getReader());
      this.#ended();
    } catch (error) {
      this.#ended(error);
    }
  }

  async #read(reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    let event = 'message';
    let data: string[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done || this.readyState === ReadyState.CLOSED) return;
      this.#heardAt = Date.now();
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length > 0) this.#dispatch(event, data.join('\n'));
          event = 'message';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'data') data.push(text);
          else if (field === 'event') event = text;
        }
      }
    }
  }

  #dispatch(event: string, data: string): void {
    if (this.readyState !== ReadyState.OPEN) return;
    if (event === 'message') this.onmessage?.({ data });
    else if (event === 'close') {
      try {
        const close = JSON.parse(data) as { code?: unknown; reason?: unknown };
        if (typeof close.code === 'number') this.#close = { code: close.code, reason: typeof close.reason === 'string' ? close.reason : '' };
      } catch {
        // a malformed close event ends like a dropped stream
      }
    }
  }

  #ended(error?: unknown, code?: number): void {
    if (this.readyState === ReadyState.CLOSED) return;
    this.readyState = ReadyState.CLOSED;
    if (error !== undefined) this.onerror?.({ message: 'SSE stream failed', error });
    const close = this.#close ?? { code: code ?? ABNORMAL, reason: '' };
    this.onclose?.(close);
  }

  #deliverLater(data: string): void {
    void Promise.resolve().then(() => {
      if (this.readyState === ReadyState.OPEN) this.onmessage?.({ data });
    });
  }

  async #stats(): Promise<void> {
    try {
      const response = await this.#fetch(`${this.#httpUrl}/api/v1/ws/stats`, { method: 'GET', headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`GET /api/v1/ws/stats answered ${response.status}`);
      this.#deliverLater(JSON.stringify(statsMessage((await response.json()) as ConnectionStats)));
    } catch {
      this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.UNAVAILABLE, 'could not read the statistics; try again')));
    }
  }

  /** The `auth` command over HTTP: the answer (`token_refreshed` or an `error`) arrives on the stream. */
  async #refresh(token: string): Promise<void> {
    if (!this.#session) {
      this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.UNAVAILABLE, 'this stream named no session (herald-session); the token is renewed at the next reconnect')));
      return;
    }
    try {
      const response = await this.#fetch(`${this.#httpUrl}/api/v1/sse/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ session: this.#session, token }),
      });
      if (!response.ok) throw new Error(`POST /api/v1/sse/refresh answered ${response.status}`);
      this.#token = token;
    } catch {
      this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.UNAVAILABLE, 'could not send the new token; the stream reconnects with it at expiry')));
    }
  }

  async #post(path: string, body?: object): Promise<void> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    try {
      const response = await this.#fetch(`${this.#httpUrl}${path}`, { method: 'POST', headers, body: body ? JSON.stringify(body) : undefined });
      if (!response.ok) throw new Error(`POST ${path} answered ${response.status}`);
      // The server answers every device, this stream included, with notifications_read.
    } catch {
      this.#deliverLater(JSON.stringify(errorMessage(ErrorCode.UNAVAILABLE, 'could not mark notifications read; try again')));
    }
  }
}
