import type { StreamPosition } from '@herald/protocol';
import { defaultBaseUrl, defaultFetch, defaultOnlineSource, defaultWebSocket, globalTimers } from './environment.js';
import type { FetchLike, OnlineSource, Timers, WebSocketConstructor } from './environment.js';
import type { HeraldClientError } from './errors.js';
import type { StreamFetch } from './sse.js';
import { localStorageTokenProvider } from './token.js';
import type { ResyncEvent, TokenProvider } from './types.js';

/** Where the client reports why it stopped for good; `console` by default. */
export interface ErrorLogger {
  error(...data: unknown[]): void;
}

export interface HeraldClientOptions {
  /**
   * Supplies the JWT; called before every connect (and every HTTP request). Default in a
   * browser: `localStorage.getItem('token')`, where the specification keeps it. Required
   * outside a browser.
   */
  getToken?: TokenProvider;
  /** `ws(s)://host[:port]`; defaults to the page's origin in a browser. */
  url?: string;
  /** Full endpoint URL override (default `<url>/api/v1/ws` or `<url>/api/v1/ws/admin`). */
  endpoint?: string;
  /** Base URL of the HTTP API (default: `url` with `ws` → `http`). */
  httpUrl?: string;
  /**
   * Connect to the admin endpoint (`true`), the user endpoint (`false`, default), or pick
   * per connect from the token's claims (`'auto'`: `is_admin` or `adm` true → admin).
   */
  isAdmin?: boolean | 'auto';
  /**
   * Transports in order of preference (default `['websocket', 'sse']`): WebSocket first,
   * Server-Sent Events after `fallbackAfter` failed upgrades; `['sse']` uses SSE only,
   * `['websocket']` never falls back. See docs/sse.md.
   */
  transports?: ReadonlyArray<'websocket' | 'sse'>;
  /** WebSocket attempts in a row that fail before `connected` (network errors, no close code) before SSE is used (default 2). */
  fallbackAfter?: number;
  /** While on SSE, how long until WebSocket is tried again, in ms (default 300000: 5 minutes; 0 never). */
  websocketRetryInterval?: number;
  /** Full SSE endpoint URL override (default `<httpUrl>/api/v1/sse` or `<httpUrl>/api/v1/sse/admin`). */
  sseEndpoint?: string;
  /** `protocol` (default) sends the token as `Sec-WebSocket-Protocol: bearer, <token>`; `query` as `?token=`. */
  tokenTransport?: 'protocol' | 'query';
  /** Connect from the constructor (default `true`). */
  autoConnect?: boolean;
  /** Reconnect after transient failures (default `true`). */
  autoReconnect?: boolean;
  /** Base reconnect delay in ms (default 3000). */
  reconnectInterval?: number;
  /** Cap of the reconnect delay in ms (default 30000). */
  maxReconnectInterval?: number;
  /** Reconnects in a row before giving up (default 5; `Infinity` allowed). */
  maxReconnectAttempts?: number;
  /** Ping interval in ms (default 30000; 0 disables the heartbeat). */
  heartbeatInterval?: number;
  /** How long to wait for any frame after a ping before treating the link as dead (default 10000). */
  heartbeatTimeout?: number;
  /** How long to wait for the server's `connected` after opening (default 15000). */
  connectTimeout?: number;
  /** Positions to resume from, e.g. persisted by a previous page load. */
  positions?: StreamPosition;
  /** Called after `resync_required`, once the inbox was refetched (or failed to). */
  onResync?: (event: ResyncEvent) => void;
  /** Called for every failure (auth, transport, server error messages). */
  onError?: (error: HeraldClientError) => void;
  /**
   * Where a failure that stops the client for good (no token, token refused, access
   * refused, reconnects exhausted) is logged, once, with its cause. Default `console`;
   * `null` keeps quiet.
   */
  logger?: ErrorLogger | null;
  WebSocket?: WebSocketConstructor;
  timers?: Timers;
  /** `null` disables online detection; default is `window`'s online/offline events. */
  onlineSource?: OnlineSource | null;
  fetch?: FetchLike;
  /** Uniform random source for backoff jitter (tests). */
  random?: () => number;
}

/** Options with every default applied, as the client uses them. */
export interface ResolvedOptions {
  autoReconnect: boolean;
  reconnectInterval: number;
  maxReconnectInterval: number;
  maxReconnectAttempts: number;
  heartbeatInterval: number;
  heartbeatTimeout: number;
  connectTimeout: number;
  tokenTransport: 'protocol' | 'query';
  transports: ReadonlyArray<'websocket' | 'sse'>;
  fallbackAfter: number;
  websocketRetryInterval: number;
  sseEndpoint: string | undefined;
  isAdmin: boolean | 'auto';
  getToken: TokenProvider;
  /** `undefined` when `endpoint` overrides it. */
  base: string | undefined;
  endpoint: string | undefined;
  httpUrl: string;
  WebSocket: WebSocketConstructor;
  timers: Timers;
  onlineSource: OnlineSource | null;
  fetch: FetchLike | undefined;
  /** The same `fetch`, for the SSE transport's streamed responses. */
  streamFetch: StreamFetch | undefined;
  random: () => number;
  logger: ErrorLogger | null;
}

/** Applies defaults; throws a `TypeError` naming what is missing outside a browser. */
export function resolveOptions(options: HeraldClientOptions): ResolvedOptions {
  const transports = transportsOf(options.transports);
  const WebSocketImpl = options.WebSocket ?? defaultWebSocket() ?? (transports.includes('websocket') ? undefined : (NoWebSocket as unknown as WebSocketConstructor));
  if (!WebSocketImpl) {
    throw new TypeError("HeraldClient: no global WebSocket; pass one as the `WebSocket` option (e.g. `ws`'s WebSocket in Node)");
  }
  const getToken = options.getToken ?? localStorageTokenProvider();
  if (!getToken) throw new TypeError('HeraldClient: pass `getToken` (there is no localStorage to read the token from)');
  const base = (options.url ?? defaultBaseUrl())?.replace(/\/+$/, '');
  if (!base && !options.endpoint) throw new TypeError('HeraldClient: pass `url` (ws(s)://host) outside a browser');
  const origin = base ?? new URL(options.endpoint!).origin;
  return {
    autoReconnect: options.autoReconnect ?? true,
    reconnectInterval: options.reconnectInterval ?? 3000,
    maxReconnectInterval: options.maxReconnectInterval ?? 30_000,
    maxReconnectAttempts: options.maxReconnectAttempts ?? 5,
    heartbeatInterval: options.heartbeatInterval ?? 30_000,
    heartbeatTimeout: options.heartbeatTimeout ?? 10_000,
    connectTimeout: options.connectTimeout ?? 15_000,
    tokenTransport: options.tokenTransport ?? 'protocol',
    transports,
    fallbackAfter: options.fallbackAfter ?? 2,
    websocketRetryInterval: options.websocketRetryInterval ?? 300_000,
    sseEndpoint: options.sseEndpoint,
    isAdmin: options.isAdmin ?? false,
    getToken,
    base,
    endpoint: options.endpoint,
    httpUrl: (options.httpUrl ?? origin.replace(/^ws(s?):/, 'http$1:')).replace(/\/+$/, ''),
    WebSocket: WebSocketImpl,
    timers: options.timers ?? globalTimers,
    onlineSource: options.onlineSource === undefined ? defaultOnlineSource() : options.onlineSource,
    fetch: options.fetch ?? defaultFetch(),
    streamFetch: (options.fetch ?? (globalThis as { fetch?: unknown }).fetch) as StreamFetch | undefined,
    random: options.random ?? Math.random,
    logger: options.logger === undefined ? ((globalThis as { console?: ErrorLogger }).console ?? null) : options.logger,
  };
}

/** Stands in for `WebSocket` where none exists and only SSE is used (`transports: ['sse']`): never constructed. */
class NoWebSocket {
  constructor() {
    throw new TypeError('HeraldClient: no WebSocket in this environment');
  }
}

function transportsOf(transports: HeraldClientOptions['transports']): ReadonlyArray<'websocket' | 'sse'> {
  if (transports === undefined) return ['websocket', 'sse'];
  const known = transports.filter((t) => t === 'websocket' || t === 'sse');
  if (known.length === 0) throw new TypeError("HeraldClient: `transports` needs 'websocket', 'sse' or both");
  return known;
}

/** The SSE endpoint URL for a connect: `sseEndpoint` if given, else by the admin flag. */
export function sseEndpointFor(options: Pick<ResolvedOptions, 'httpUrl' | 'sseEndpoint'>, admin: boolean): string {
  return options.sseEndpoint ?? `${options.httpUrl}/api/v1/sse${admin ? '/admin' : ''}`;
}

/** The endpoint URL for a connect: `endpoint` if given, else by the admin flag (see `isAdmin`). */
export function endpointFor(options: Pick<ResolvedOptions, 'base' | 'endpoint'>, admin: boolean): string {
  return options.endpoint ?? `${options.base}/api/v1/ws${admin ? '/admin' : ''}`;
}
