/**
 * The parts of the outside world the client uses, as small interfaces, so the same code
 * runs in browsers (native `WebSocket`, `window` online events, `fetch`) and in Node tests
 * (`ws`'s `WebSocket`, manual timers, a hand-driven online source).
 */

/** Readiness values shared by the browser `WebSocket` and `ws`. */
export const ReadyState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 } as const;

/**
 * The subset of the WHATWG `WebSocket` the client needs. Both the browser's `WebSocket`
 * and `ws`'s `WebSocket` satisfy it. Handler parameters are `any` on purpose: the two
 * implementations declare different event classes, and the client reads only
 * `data`, `code` and `reason` from them.
 */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  /* eslint-disable @typescript-eslint/no-explicit-any */
  onopen: ((event: any) => void) | null;
  onclose: ((event: any) => void) | null;
  onerror: ((event: any) => void) | null;
  onmessage: ((event: any) => void) | null;
  /* eslint-enable @typescript-eslint/no-explicit-any */
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Timer functions; defaults call the global ones at call time (so installed fake timers apply). */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Reports connectivity changes. `listener(true)` when the device comes back online
 * (the client then reconnects at once instead of waiting for its backoff timer).
 */
export interface OnlineSource {
  subscribe(listener: (online: boolean) => void): () => void;
}

/** The `fetch` signature the client needs (global `fetch` by default). */
export type FetchLike = (
  url: string,
  init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export const globalTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Online source from a `window`-like event target's `online` / `offline` events. */
export function eventTargetOnlineSource(target: EventTargetLike): OnlineSource {
  return {
    subscribe(listener) {
      const online = (): void => listener(true);
      const offline = (): void => listener(false);
      target.addEventListener('online', online);
      target.addEventListener('offline', offline);
      return () => {
        target.removeEventListener('online', online);
        target.removeEventListener('offline', offline);
      };
    },
  };
}

/** The browser's `window` online source, or `null` where there is no `window` (Node). */
export function defaultOnlineSource(): OnlineSource | null {
  const target = (globalThis as { window?: Partial<EventTargetLike> }).window;
  if (target && typeof target.addEventListener === 'function' && typeof target.removeEventListener === 'function') {
    return eventTargetOnlineSource(target as EventTargetLike);
  }
  return null;
}

export function defaultWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

export function defaultFetch(): FetchLike | undefined {
  const f = (globalThis as { fetch?: FetchLike }).fetch;
  return f ? (url, init) => f(url, init) : undefined;
}

/** `ws(s)://host` of the current page, or `undefined` outside a browser. */
export function defaultBaseUrl(): string | undefined {
  const location = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!location || !location.host) return undefined;
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
}
