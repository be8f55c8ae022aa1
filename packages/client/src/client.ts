import {
  formatSince,
  isCustomEvent,
  isCustomEventType,
  parseServerMessage,
  PERSISTED_TYPES,
  type ConnectedMessage,
  type CustomEventMessage,
  type ErrorMessage,
  type NotificationsReadMessage,
  type ResyncRequiredMessage,
  type ServerMessage,
  type StreamPosition,
  type UnreadState,
} from '@herald/protocol';
import { Connection } from './connection.js';
import { Emitter } from './emitter.js';
import { ClientErrorCode, HeraldClientError } from './errors.js';
import { getJson } from './http.js';
import { resolveOptions, type HeraldClientOptions, type ResolvedOptions } from './options.js';
import { PositionTracker, UnreadTracker } from './tracking.js';
import type { ClientEvents, ClientSnapshot, ConnectionState, InboxPage, ResyncEvent } from './types.js';

export type { HeraldClientOptions } from './options.js';

/** Failures after which the client stays closed until `connect()`: logged once, kept in the snapshot. */
const FATAL: ReadonlySet<ClientErrorCode> = new Set([
  ClientErrorCode.NO_TOKEN,
  ClientErrorCode.AUTH,
  ClientErrorCode.FORBIDDEN,
  ClientErrorCode.RECONNECT_EXHAUSTED,
]);


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
  readonly #options: ResolvedOptions;
  readonly #onResync: ((event: ResyncEvent) => void) | undefined;
  readonly #onError: ((error: HeraldClientError) => void) | undefined;

  readonly #events: Emitter<ClientEvents>;
  readonly #storeListeners = new Set<() => void>();
  readonly #positions: PositionTracker;
  readonly #unread = new UnreadTracker();

  readonly #connection: Connection;
  #snapshot: ClientSnapshot;
  #lastMessage: ServerMessage | null = null;
  #error: HeraldClientError | null = null;

  constructor(options: HeraldClientOptions = {}) {
    this.#options = resolveOptions(options);
    this.#onResync = options.onResync;
    this.#onError = options.onError;
    this.#positions = new PositionTracker(options.positions);
    this.#events = new Emitter<ClientEvents>((error) => this.#fail(ClientErrorCode.LISTENER, 'an event listener threw', { cause: error }));
    this.#connection = new Connection(this.#options, {
      since: () => formatSince(this.#positions.positions),
      frame: (data) => this.#onFrame(data),
      state: (state, previous) => {
        if (state === 'connecting') this.#error = null;
        this.#changed();
        this.#events.emit('state', { state, previous });
      },
      disconnected: (event) => this.#events.emit('disconnect', event),
      fail: (code, text, failure) => this.#fail(code, text, failure),
    });
    this.#snapshot = this.#makeSnapshot();
    if (options.autoConnect ?? true) this.connect();
  }

  // ---- public API -----------------------------------------------------------------

  /** Current connection state. */
  getState(): ConnectionState {
    return this.#connection.state;
  }

  /** `true` once the server has confirmed the connection with `connected`. */
  get isConnected(): boolean {
    return this.#connection.state === 'open';
  }

  /** Unread notifications: the server's count plus new ones received since. */
  get unreadCount(): number {
    return this.#unread.count;
  }

  /** The last offset seen per stream (what the next connect sends as `since`). */
  get positions(): StreamPosition {
    return this.#positions.positions;
  }

  /** The transport of the current (or next) connection: `'websocket'`, or `'sse'` after a fallback (docs/sse.md). */
  get transport(): 'websocket' | 'sse' {
    return this.#connection.transport;
  }

  /** Base URL of the HTTP API. */
  get httpUrl(): string {
    return this.#options.httpUrl;
  }

  /** Why the client stopped for good, or `null` (see `ClientSnapshot.error`). */
  get error(): HeraldClientError | null {
    return this.#error;
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
   * (`'message'`, `'state'`, `'disconnect'`, `'failure'`, `'resync'`, `'unread'`), or `'event'`:
   * every custom event a producer published (`{type, data, timestamp, id?, stream?, offset?}`).
   * Returns the unsubscribe function.
   */
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  /**
   * Listens to the custom events of one type (`'order.shipped'`), typed by their `data`.
   * Returns the unsubscribe function. `on('event', …)` hears every custom type.
   *
   * @example
   * client.onEvent<{ order: number }>('order.shipped', (e) => toast(`order ${e.data.order} shipped`));
   */
  onEvent<D extends Record<string, unknown> = Record<string, unknown>>(type: string, listener: (event: CustomEventMessage<D>) => void): () => void {
    return this.#events.on('event', (event) => {
      if (event.type === type) listener(event as CustomEventMessage<D>);
    });
  }

  /** Opens the connection (no-op unless `closed`). */
  connect(): void {
    this.#connection.connect();
  }

  /** Closes the connection for good (until `connect()`), releasing every timer and listener. */
  close(): void {
    this.#connection.close();
  }

  /**
   * Sends a text command (`'ping'`, `'get_stats'`) or a JSON command object.
   * Returns `false` when the socket is not open.
   */
  send(data: string | object): boolean {
    return this.#connection.send(typeof data === 'string' ? data : JSON.stringify(data));
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
   * Throws a `HeraldClientError`: `ERR_HTTP` on failure (with the HTTP `status`), `ERR_NO_TOKEN`
   * (status 401, no request made) when the token provider has no token.
   */
  async request<T = unknown>(path: string): Promise<T> {
    const token = await this.#options.getToken({ forceRefresh: false });
    // Without a token the answer is a 401: say so without asking (and without a failed request in the console).
    if (!token) throw new HeraldClientError(ClientErrorCode.NO_TOKEN, `GET ${path}: no token`, { status: 401 });
    return getJson<T>(this.#options.fetch, `${this.#options.httpUrl}${path}`, path, token);
  }

  /** Refetches the first inbox page and applies its unread count (ordering rule applies). */
  async fetchInbox(): Promise<InboxPage> {
    const page = await this.request<InboxPage>('/api/v1/notifications');
    if (typeof page.unread_count === 'number' && page.unread_positions) this.#applyUnread(page);
    return page;
  }

  // ---- state machine --------------------------------------------------------------

  #changed(): void {
    this.#snapshot = this.#makeSnapshot();
    for (const listener of [...this.#storeListeners]) listener();
  }

  #makeSnapshot(): ClientSnapshot {
    return { state: this.#connection.state, unreadCount: this.#unread.count, lastMessage: this.#lastMessage, error: this.#error };
  }

  // ---- inbound --------------------------------------------------------------------

  #onFrame(data: string): void {
    const parsed = parseServerMessage(data);
    if (!parsed.ok) {
      this.#fail(ClientErrorCode.PROTOCOL, parsed.error);
      return;
    }
    const message = parsed.value;
    // Stored custom events have a position like the specification's stored types: deduplicated, counted unread.
    if (PERSISTED_TYPES.has(message.type) || isCustomEventType(message.type)) {
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
      case 'token_expiring':
        void this.#refreshInBand();
        break;
      default:
        break;
    }
    this.#lastMessage = message;
    this.#changed();
    this.#events.emit('message', message);
    this.#events.emit(message.type, message as never);
    if (isCustomEvent(message)) this.#events.emit('event', message);
  }

  /**
   * The server said the token expires soon: ask the provider for a fresh one and send it on
   * the open connection (`auth`), so the session goes on without a reconnect. If this fails,
   * the server closes with 4001 at expiry and the usual fresh-token reconnect takes over.
   */
  async #refreshInBand(): Promise<void> {
    const socketId = this.#connection.socketId;
    let token: string | null | undefined;
    try {
      token = await this.#options.getToken({ forceRefresh: true });
    } catch {
      return;
    }
    if (token && socketId === this.#connection.socketId) this.#connection.send(JSON.stringify({ type: 'auth', token }));
  }

  #onConnected(message: ConnectedMessage): void {
    // Where this connection stands per stream (exactly the streams it reads); the server
    // delivers strictly after it, so this is also what the next `since` must say.
    if (message.streams && typeof message.streams === 'object') this.#positions.reset(message.streams, true);
    if (typeof message.unread_count === 'number' && message.unread_positions) this.#applyUnread(message);
    this.#connection.confirmed();
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
    const id = this.#connection.socketId;
    this.fetchInbox().then(
      (inbox) => {
        this.#changed();
        this.#emitResync({ ...base, inbox });
      },
      (cause: unknown) => {
        const error =
          cause instanceof HeraldClientError ? cause : new HeraldClientError(ClientErrorCode.HTTP, 'inbox refetch failed', { cause });
        if (id === this.#connection.socketId) this.#report(error);
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
    if (FATAL.has(error.code)) {
      // Stopping for good is never silent: one line naming the cause, and the error in the snapshot.
      this.#error = error;
      this.#changed();
      this.#options.logger?.error(`[herald] ${error.code}: ${error.message}`);
    }
    if (error.code !== ClientErrorCode.LISTENER) this.#events.emit('failure', error);
    try {
      this.#onError?.(error);
    } catch {
      // an onError that throws must not break the socket handler that reported
    }
  }
}
