import {
  CloseCode,
  closeAction,
  formatSince,
  parseServerMessage,
  reconnectHint,
  PONG,
  type ConnectedMessage,
  type ErrorMessage,
  type NotificationsReadMessage,
  type ResyncRequiredMessage,
  type ServerMessage,
  type StreamName,
  type StreamPosition,
  type UnreadState,
} from '@herald/protocol';
import { backoff } from './backoff.js';
import { Emitter } from './emitter.js';
import {
  ReadyState,
  defaultBaseUrl,
  defaultFetch,
  defaultOnlineSource,
  defaultWebSocket,
  globalTimers,
  type FetchLike,
  type OnlineSource,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
} from './environment.js';
import { ClientErrorCode, HeraldClientError } from './errors.js';
import { PositionTracker, UnreadTracker } from './tracking.js';

/** Connection states. `reconnecting` means waiting for (or running) a retry after a drop. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What the token provider is told: `forceRefresh` after the server refused the last token. */
export interface TokenRequest {
  forceRefresh: boolean;
}

export type TokenProvider = (request: TokenRequest) => string | null | undefined | Promise<string | null | undefined>;

/** One page of the inbox, as `GET /api/v1/notifications` returns it. */
export interface InboxPage extends UnreadState {
  items: unknown[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: number | string | null;
}

export interface ResyncEvent {
  streams: StreamName[];
  reason: string;
  positions: StreamPosition;
  /** The refetched inbox, or `undefined` when the refetch failed (see `error`). */
  inbox: InboxPage | undefined;
  error?: HeraldClientError;
}

export interface DisconnectEvent {
  code: number;
  reason: string;
  /** Whether the client will try again (state `reconnecting`). */
  willReconnect: boolean;
}

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
}

/** Server message events by `type`, plus the client's own lifecycle events. */
export type ClientEvents = { [K in ServerMessage['type']]: Extract<ServerMessage, { type: K }> } & {
  /** Every server message that was not dropped as a duplicate. */
  message: ServerMessage;
  state: StateChange;
  disconnect: DisconnectEvent;
  failure: HeraldClientError;
  resync: ResyncEvent;
  unread: number;
};

/** Immutable view for `useSyncExternalStore`; a new object after every change. */
export interface ClientSnapshot {
  state: ConnectionState;
  unreadCount: number;
  lastMessage: ServerMessage | null;
}

export interface HeraldClientOptions {
  /** Supplies the JWT; called before every connect (and every HTTP request). */
  getToken: TokenProvider;
  /** `ws(s)://host[:port]`; defaults to the page's origin in a browser. */
  url?: string;
  /** Full endpoint URL override (default `<url>/api/v1/ws` or `<url>/api/v1/ws/admin`). */
  endpoint?: string;
  /** Base URL of the HTTP API (default: `url` with `ws` → `http`). */
  httpUrl?: string;
  /** Connect to the admin endpoint. */
  isAdmin?: boolean;
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
  WebSocket?: WebSocketConstructor;
  timers?: Timers;
  /** `null` disables online detection; default is `window`'s online/offline events. */
  onlineSource?: OnlineSource | null;
  fetch?: FetchLike;
  /** Uniform random source for backoff jitter (tests). */
  random?: () => number;
}

type Resolved = Required<
  Pick<
    HeraldClientOptions,
    | 'autoReconnect'
    | 'reconnectInterval'
    | 'maxReconnectInterval'
    | 'maxReconnectAttempts'
    | 'heartbeatInterval'
    | 'heartbeatTimeout'
    | 'connectTimeout'
    | 'tokenTransport'
    | 'isAdmin'
  >
>;

type TimerName = 'connect' | 'reconnect' | 'ping' | 'pong';

const PERSISTED_TYPES = new Set(['transcode_complete', 'transcode_failed', 'system_message']);

/**
 * Herald's WebSocket client: connects with a token from a provider, reconnects with
 * backoff, resumes from its stream positions, drops duplicates, keeps the unread count,
 * detects dead links with a heartbeat and emits typed events.
 *
 * @example
 * const client = new HeraldClient({
 *   url: 'wss://videos.example.com',
 *   getToken: async ({ forceRefresh }) => (forceRefresh ? refresh() : localStorage.getItem('token')),
 * });
 * const off = client.on('transcode_progress', (m) => console.log(m.video_id, m.progress));
 * client.subscribe(() => console.log(client.getState(), client.unreadCount));
 */
export class HeraldClient {
  readonly #options: Resolved;
  readonly #getToken: TokenProvider;
  readonly #endpoint: string;
  readonly #httpUrl: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #timers: Timers;
  readonly #onlineSource: OnlineSource | null;
  readonly #fetch: FetchLike | undefined;
  readonly #random: () => number;
  readonly #onResync: ((event: ResyncEvent) => void) | undefined;
  readonly #onError: ((error: HeraldClientError) => void) | undefined;

  readonly #events: Emitter<ClientEvents>;
  readonly #storeListeners = new Set<() => void>();
  readonly #positions: PositionTracker;
  readonly #unread = new UnreadTracker();

  #state: ConnectionState = 'closed';
  #snapshot: ClientSnapshot;
  #lastMessage: ServerMessage | null = null;

  #socket: WebSocketLike | null = null;
  /** Incremented for every socket; events carrying an older id are stale and ignored. */
  #socketId = 0;
  #attempts = 0;
  /** The last close was 4001 and the provider was asked for a fresh token. */
  #authRetry = false;
  /** Closed because reconnects ran out: coming back online restarts. */
  #exhausted = false;

  /** Every pending timer, by purpose; `#cancel` and `#cleanup` are the only ways they end early. */
  readonly #pending = new Map<TimerName, unknown>();
  #offOnline: (() => void) | null = null;

  constructor(options: HeraldClientOptions) {
    const WebSocketImpl = options.WebSocket ?? defaultWebSocket();
    if (!WebSocketImpl) {
      throw new TypeError('HeraldClient: no global WebSocket; pass one as the `WebSocket` option (e.g. `ws`\'s WebSocket in Node)');
    }
    const base = (options.url ?? defaultBaseUrl())?.replace(/\/+$/, '');
    if (!base && !options.endpoint) throw new TypeError('HeraldClient: pass `url` (ws(s)://host) outside a browser');
    this.#options = {
      autoReconnect: options.autoReconnect ?? true,
      reconnectInterval: options.reconnectInterval ?? 3000,
      maxReconnectInterval: options.maxReconnectInterval ?? 30_000,
      maxReconnectAttempts: options.maxReconnectAttempts ?? 5,
      heartbeatInterval: options.heartbeatInterval ?? 30_000,
      heartbeatTimeout: options.heartbeatTimeout ?? 10_000,
      connectTimeout: options.connectTimeout ?? 15_000,
      tokenTransport: options.tokenTransport ?? 'protocol',
      isAdmin: options.isAdmin ?? false,
    };
    this.#getToken = options.getToken;
    this.#endpoint = options.endpoint ?? `${base}/api/v1/ws${this.#options.isAdmin ? '/admin' : ''}`;
    const origin = base ?? new URL(this.#endpoint).origin;
    this.#httpUrl = (options.httpUrl ?? origin.replace(/^ws(s?):/, 'http$1:')).replace(/\/+$/, '');
    this.#WebSocket = WebSocketImpl;
    this.#timers = options.timers ?? globalTimers;
    this.#onlineSource = options.onlineSource === undefined ? defaultOnlineSource() : options.onlineSource;
    this.#fetch = options.fetch ?? defaultFetch();
    this.#random = options.random ?? Math.random;
    this.#onResync = options.onResync;
    this.#onError = options.onError;
    this.#positions = new PositionTracker(options.positions);
    this.#events = new Emitter<ClientEvents>((error) => this.#fail(ClientErrorCode.LISTENER, 'an event listener threw', { cause: error }));
    this.#snapshot = this.#makeSnapshot();
    if (options.autoConnect ?? true) this.connect();
  }

  // ---- public API -----------------------------------------------------------------

  /** Current connection state. */
  getState(): ConnectionState {
    return this.#state;
  }

  /** `true` once the server has confirmed the connection with `connected`. */
  get isConnected(): boolean {
    return this.#state === 'open';
  }

  /** Unread notifications: the server's count plus new ones received since. */
  get unreadCount(): number {
    return this.#unread.count;
  }

  /** The last offset seen per stream (what the next connect sends as `since`). */
  get positions(): StreamPosition {
    return this.#positions.positions;
  }

  /** Base URL of the HTTP API. */
  get httpUrl(): string {
    return this.#httpUrl;
  }

  /** Store contract for `useSyncExternalStore`: called after any snapshot change. */
  subscribe = (listener: () => void): (() => void) => {
    this.#storeListeners.add(listener);
    return () => {
      this.#storeListeners.delete(listener);
    };
  };

  /** Store contract for `useSyncExternalStore`: stable until the next change. */
  getSnapshot = (): ClientSnapshot => this.#snapshot;

  /**
   * Listens to a server message type (`'transcode_progress'`, …) or a lifecycle event
   * (`'message'`, `'state'`, `'disconnect'`, `'failure'`, `'resync'`, `'unread'`).
   * Returns the unsubscribe function.
   */
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /** Opens the connection (no-op unless `closed`). */
  connect(): void {
    if (this.#state !== 'closed') return;
    this.#attempts = 0;
    this.#authRetry = false;
    this.#exhausted = false;
    this.#offOnline ??= this.#onlineSource?.subscribe((online) => this.#onOnlineChange(online)) ?? null;
    this.#setState('connecting');
    void this.#open();
  }

  /** Closes the connection for good (until `connect()`), releasing every timer and listener. */
  close(): void {
    this.#exhausted = false;
    this.#disconnect(CloseCode.NORMAL, 'client closed', false);
  }

  /**
   * Sends a text command (`'ping'`, `'get_stats'`) or a JSON command object.
   * Returns `false` when the socket is not open.
   */
  send(data: string | object): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== ReadyState.OPEN) return false;
    socket.send(typeof data === 'string' ? data : JSON.stringify(data));
    return true;
  }

  /** Marks notifications read over the socket; without ids, all of them. */
  markRead(ids?: readonly number[]): boolean {
    if (ids === undefined) {
      const sent = this.send({ type: 'mark_all_read' });
      if (sent && this.#unread.count !== 0) {
        this.#unread.clearLocal();
        this.#changed();
        this.#events.emit('unread', 0);
      }
      return sent;
    }
    return ids.length === 0 ? true : this.send({ type: 'mark_read', ids: [...ids] });
  }

  /**
   * Authenticated `GET` against the HTTP API (`path` like `/api/v1/notifications`).
   * Throws a `HeraldClientError` with code `ERR_HTTP` on failure.
   */
  async request<T = unknown>(path: string): Promise<T> {
    const fetchImpl = this.#fetch;
    if (!fetchImpl) throw new HeraldClientError(ClientErrorCode.HTTP, 'no fetch available; pass the `fetch` option');
    const token = await this.#getToken({ forceRefresh: false });
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetchImpl(`${this.#httpUrl}${path}`, { method: 'GET', headers });
    } catch (cause) {
      throw new HeraldClientError(ClientErrorCode.HTTP, `GET ${path} failed`, { cause });
    }
    if (!response.ok) throw new HeraldClientError(ClientErrorCode.HTTP, `GET ${path} answered ${response.status}`);
    return (await response.json()) as T;
  }

  /** Refetches the first inbox page and applies its unread count (ordering rule applies). */
  async fetchInbox(): Promise<InboxPage> {
    const page = await this.request<InboxPage>('/api/v1/notifications');
    if (typeof page.unread_count === 'number' && page.unread_positions) this.#applyUnread(page);
    return page;
  }

  // ---- state machine --------------------------------------------------------------

  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#changed();
    this.#events.emit('state', { state: next, previous });
  }

  #changed(): void {
    this.#snapshot = this.#makeSnapshot();
    for (const listener of [...this.#storeListeners]) listener();
  }

  #makeSnapshot(): ClientSnapshot {
    return { state: this.#state, unreadCount: this.#unread.count, lastMessage: this.#lastMessage };
  }

  async #open(): Promise<void> {
    const id = ++this.#socketId;
    let token: string | null | undefined;
    try {
      token = await this.#getToken({ forceRefresh: this.#authRetry });
    } catch (cause) {
      if (id !== this.#socketId) return;
      this.#fail(ClientErrorCode.TOKEN_PROVIDER, 'the token provider failed', { cause });
      this.#disconnect(CloseCode.INTERNAL_ERROR, 'token provider failed', true);
      return;
    }
    if (id !== this.#socketId) return; // closed or restarted while waiting for the token
    if (!token) {
      this.#fail(ClientErrorCode.NO_TOKEN, 'the token provider returned no token');
      this.#disconnect(CloseCode.UNAUTHORIZED, 'no token', false);
      return;
    }
    const url = new URL(this.#endpoint);
    const since = formatSince(this.#positions.positions);
    if (since) url.searchParams.set('since', since);
    if (this.#options.tokenTransport === 'query') url.searchParams.set('token', token);
    let socket: WebSocketLike;
    try {
      socket =
        this.#options.tokenTransport === 'protocol'
          ? new this.#WebSocket(url.toString(), ['bearer', token])
          : new this.#WebSocket(url.toString());
    } catch (cause) {
      this.#fail(ClientErrorCode.TRANSPORT, 'could not create the WebSocket', { cause });
      this.#disconnect(CloseCode.INTERNAL_ERROR, 'socket creation failed', true);
      return;
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (id === this.#socketId) this.#startHeartbeat();
    };
    socket.onmessage = (event: { data: unknown }) => {
      if (id === this.#socketId) this.#onFrame(event.data);
    };
    socket.onerror = (event: { message?: string; error?: unknown }) => {
      // The close event that follows decides about reconnecting; this only reports.
      if (id === this.#socketId) this.#fail(ClientErrorCode.TRANSPORT, event?.message ?? 'WebSocket error', { cause: event?.error ?? event });
    };
    socket.onclose = (event: { code: number; reason: string }) => {
      if (id === this.#socketId) this.#onClose(event.code, event.reason ?? '');
    };
    this.#schedule('connect', this.#options.connectTimeout, () => {
      if (id === this.#socketId) this.#disconnect(CloseCode.INTERNAL_ERROR, 'connect timeout', true);
    });
  }

  #onClose(code: number, reason: string): void {
    switch (closeAction(code)) {
      case 'done':
        this.#disconnect(code, reason, false);
        return;
      case 'giveUp':
        this.#fail(ClientErrorCode.FORBIDDEN, `the server refused the connection (${code} ${reason})`, { closeCode: code });
        this.#disconnect(code, reason, false);
        return;
      case 'refreshToken':
        if (this.#authRetry || !this.#options.autoReconnect) {
          this.#fail(ClientErrorCode.AUTH, `the server refused a fresh token (${code} ${reason})`, { closeCode: code });
          this.#disconnect(code, reason, false);
        } else {
          this.#authRetry = true;
          this.#disconnect(code, reason, 'now');
        }
        return;
      case 'reconnect':
        this.#disconnect(code, reason, true, code === CloseCode.GOING_AWAY ? reconnectHint(reason) : undefined);
        return;
    }
  }

  /**
   * The one way down: detaches and closes the socket, stops its timers, then either
   * schedules a reconnect (`reconnecting`) or ends in `closed` with everything released.
   */
  #disconnect(code: number, reason: string, reconnect: boolean | 'now', delay?: number): void {
    const wasLive = this.#socket !== null || this.#state === 'connecting';
    this.#dropSocket();
    const canRetry = reconnect && this.#options.autoReconnect;
    // The one fresh-token retry ('now') is not a reconnect attempt: it neither counts nor waits.
    const exhausted = canRetry && reconnect !== 'now' && this.#attempts >= this.#options.maxReconnectAttempts;
    const willReconnect = canRetry && !exhausted;
    if (wasLive && this.#state !== 'closed') this.#events.emit('disconnect', { code, reason, willReconnect });
    if (willReconnect) {
      this.#setState('reconnecting');
      if (reconnect === 'now') {
        void this.#open();
        return;
      }
      const wait = delay ?? backoff(this.#attempts, this.#options.reconnectInterval, this.#options.maxReconnectInterval, this.#random);
      this.#attempts += 1;
      this.#schedule('reconnect', wait, () => void this.#open());
      return;
    }
    if (exhausted) {
      // Keep the online listener (the socket and timers are gone): coming back online is a good reason to try again.
      this.#exhausted = true;
      this.#fail(ClientErrorCode.RECONNECT_EXHAUSTED, `gave up after ${this.#attempts} reconnect attempts`, { closeCode: code });
    } else {
      this.#exhausted = false;
      this.#cleanup();
    }
    this.#setState('closed');
  }

  /** Detaches the current socket (so its late events are stale) and clears its timers. */
  #dropSocket(): void {
    this.#socketId += 1;
    const socket = this.#socket;
    this.#socket = null;
    for (const name of [...this.#pending.keys()]) this.#cancel(name);
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    // Keep an error listener: `ws` throws on an unhandled 'error' (e.g. closing while connecting).
    socket.onerror = () => {};
    if (socket.readyState === ReadyState.CONNECTING || socket.readyState === ReadyState.OPEN) {
      try {
        socket.close(CloseCode.NORMAL);
      } catch {
        // already closing
      }
    }
  }

  /** Releases every timer and listener the client holds while connected. */
  #cleanup(): void {
    this.#dropSocket();
    this.#offOnline?.();
    this.#offOnline = null;
  }

  #schedule(name: TimerName, ms: number, callback: () => void): void {
    this.#cancel(name);
    this.#pending.set(
      name,
      this.#timers.setTimeout(() => {
        this.#pending.delete(name);
        callback();
      }, ms),
    );
  }

  #cancel(name: TimerName): void {
    const handle = this.#pending.get(name);
    if (handle === undefined) return;
    this.#pending.delete(name);
    this.#timers.clearTimeout(handle);
  }

  #onOnlineChange(online: boolean): void {
    if (!online) return; // a dead link is found by the heartbeat; an offline event alone is not proof
    if (this.#state === 'closed' && this.#exhausted) {
      this.connect();
    } else if (this.#state === 'reconnecting' && this.#socket === null) {
      this.#cancel('reconnect');
      void this.#open();
    }
  }

  // ---- heartbeat ------------------------------------------------------------------

  #startHeartbeat(): void {
    const interval = this.#options.heartbeatInterval;
    if (interval <= 0) return;
    this.#schedule('ping', interval, () => {
      if (!this.send('ping')) return;
      if (!this.#pending.has('pong')) {
        this.#schedule('pong', this.#options.heartbeatTimeout, () => {
          this.#disconnect(CloseCode.HEARTBEAT_TIMEOUT, 'no pong within heartbeatTimeout', true);
        });
      }
      this.#startHeartbeat();
    });
  }

  // ---- inbound --------------------------------------------------------------------

  #onFrame(data: unknown): void {
    // Any frame proves the link is alive, not just the pong (a busy server may queue it).
    this.#cancel('pong');
    if (typeof data !== 'string') return;
    if (data === PONG) return;
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.#fail(ClientErrorCode.PROTOCOL, parsed.error);
      return;
    }
    const message = parsed.value;
    if (PERSISTED_TYPES.has(message.type)) {
      const { stream, offset, id } = message as { stream?: unknown; offset?: unknown; id?: unknown };
      if (typeof stream === 'string' && typeof offset === 'number') {
        if (!this.#positions.accept(stream, offset, typeof id === 'number' ? id : undefined)) return;
        this.#unread.addLocal(stream, offset);
      }
    }
    switch (message.type) {
      case 'connected':
        this.#onConnected(message);
        break;
      case 'resumed':
        this.#positions.advance(message.positions);
        break;
      case 'resync_required':
        this.#onResyncRequired(message);
        break;
      case 'notifications_read':
        this.#applyUnread(message);
        break;
      case 'error':
        this.#onServerError(message);
        break;
      default:
        break;
    }
    this.#lastMessage = message;
    this.#changed();
    this.#events.emit('message', message);
    this.#events.emit(message.type, message as never);
  }

  #onConnected(message: ConnectedMessage): void {
    this.#cancel('connect');
    // Where this connection stands per stream (exactly the streams it reads); the server
    // delivers strictly after it, so this is also what the next `since` must say.
    if (message.streams && typeof message.streams === 'object') this.#positions.reset(message.streams, true);
    this.#attempts = 0;
    this.#authRetry = false;
    this.#exhausted = false;
    if (typeof message.unread_count === 'number' && message.unread_positions) this.#applyUnread(message);
    this.#setState('open');
  }

  #applyUnread(state: UnreadState | NotificationsReadMessage): void {
    const before = this.#unread.count;
    if (this.#unread.applyServer(state.unread_count, state.unread_positions ?? {}) && this.#unread.count !== before) {
      this.#events.emit('unread', this.#unread.count);
    }
  }

  #onResyncRequired(message: ResyncRequiredMessage): void {
    this.#positions.reset(message.positions);
    const base = { streams: message.streams, reason: message.reason, positions: message.positions };
    const id = this.#socketId;
    this.fetchInbox().then(
      (inbox) => {
        this.#changed();
        this.#emitResync({ ...base, inbox });
      },
      (cause: unknown) => {
        const error =
          cause instanceof HeraldClientError ? cause : new HeraldClientError(ClientErrorCode.HTTP, 'inbox refetch failed', { cause });
        if (id === this.#socketId) this.#report(error);
        this.#emitResync({ ...base, inbox: undefined, error });
      },
    );
  }

  #emitResync(event: ResyncEvent): void {
    this.#events.emit('resync', event);
    try {
      this.#onResync?.(event);
    } catch (cause) {
      this.#fail(ClientErrorCode.LISTENER, 'onResync threw', { cause });
    }
  }

  #onServerError(message: ErrorMessage): void {
    this.#fail(ClientErrorCode.SERVER, `${message.code}: ${message.message}`, { cause: message });
  }

  #fail(code: ClientErrorCode, text: string, options: { cause?: unknown; closeCode?: number } = {}): void {
    this.#report(new HeraldClientError(code, text, options));
  }

  #report(error: HeraldClientError): void {
    if (error.code !== ClientErrorCode.LISTENER) this.#events.emit('failure', error);
    try {
      this.#onError?.(error);
    } catch {
      // an onError that throws must not break the socket handler that reported
    }
  }
}
