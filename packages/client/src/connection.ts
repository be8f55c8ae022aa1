import { CloseCode, closeAction, reconnectHint, PONG } from '@herald/protocol';
import { backoff } from './backoff.js';
import { ReadyState, type WebSocketLike } from './environment.js';
import { ClientErrorCode } from './errors.js';
import { endpointFor, sseEndpointFor, type ResolvedOptions } from './options.js';
import { SseSocket } from './sse.js';
import { TimerSet } from './timer-set.js';
import { tokenSaysAdmin } from './token.js';
import type { ConnectionState, DisconnectEvent } from './types.js';

type TimerName = 'connect' | 'reconnect' | 'ping' | 'pong' | 'upgrade';

/** The transports the client speaks. */
export type Transport = 'websocket' | 'sse';

/** Close codes of a WebSocket that never reached the server's checks: the upgrade itself failed. */
const UPGRADE_FAILURES: ReadonlySet<number> = new Set([1002, 1005, 1006, 1015]);

/** What the connection tells its owner (the client, which gives the frames their meaning). */
export interface ConnectionHooks {
  /** The `since` query value for the next connect, if any. */
  since(): string | undefined;
  /** A text frame other than `pong`. */
  frame(data: string): void;
  state(next: ConnectionState, previous: ConnectionState): void;
  disconnected(event: DisconnectEvent): void;
  fail(code: ClientErrorCode, text: string, options?: { cause?: unknown; closeCode?: number }): void;
}

/**
 * The socket's life: token, open, heartbeat, close codes, backoff and reconnects. One
 * state machine with one way down (`#disconnect`); events of an older socket are
 * recognised by their id and ignored; every timer and listener is released by `#cleanup`.
 */
export class Connection {
  readonly #options: ResolvedOptions;
  readonly #hooks: ConnectionHooks;
  readonly #timers: TimerSet<TimerName>;

  #state: ConnectionState = 'closed';
  #socket: WebSocketLike | null = null;
  /** Incremented for every socket; events carrying an older id are stale and ignored. */
  #socketId = 0;
  #attempts = 0;
  /** The last close was 4001 and the provider was asked for a fresh token. */
  #authRetry = false;
  /** Closed because reconnects ran out: coming back online restarts. */
  #exhausted = false;
  #offOnline: (() => void) | null = null;
  #transport: Transport;
  /** WebSocket attempts in a row that failed before `connected`. */
  #upgradeFailures = 0;

  constructor(options: ResolvedOptions, hooks: ConnectionHooks) {
    this.#options = options;
    this.#hooks = hooks;
    this.#timers = new TimerSet(options.timers);
    this.#transport = options.transports[0];
  }

  /** The transport of the current (or next) connection. */
  get transport(): Transport {
    return this.#transport;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Id of the current socket: work started for one socket checks it is still current. */
  get socketId(): number {
    return this.#socketId;
  }

  /** Opens the connection (no-op unless `closed`). */
  connect(): void {
    if (this.#state !== 'closed') return;
    this.#attempts = 0;
    this.#authRetry = false;
    this.#exhausted = false;
    this.#offOnline ??= this.#options.onlineSource?.subscribe((online) => this.#onOnlineChange(online)) ?? null;
    this.#setState('connecting');
    void this.#open();
  }

  close(): void {
    this.#exhausted = false;
    this.#disconnect(CloseCode.NORMAL, 'client closed', false);
  }

  send(data: string): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== ReadyState.OPEN) return false;
    socket.send(data);
    return true;
  }

  /** The server confirmed the connection (`connected`): retries start from zero again. */
  confirmed(): void {
    this.#timers.cancel('connect');
    this.#attempts = 0;
    this.#authRetry = false;
    this.#exhausted = false;
    if (this.#transport === 'websocket') this.#upgradeFailures = 0;
    else this.#scheduleUpgrade();
    this.#setState('open');
  }

  /** On SSE with WebSocket allowed: try WebSocket again later (positions carry over through `since`). */
  #scheduleUpgrade(): void {
    const interval = this.#options.websocketRetryInterval;
    if (interval <= 0 || !this.#options.transports.includes('websocket')) return;
    this.#timers.schedule('upgrade', interval, () => {
      this.#transport = 'websocket';
      // One failure sends the client back to SSE at once.
      this.#upgradeFailures = Math.max(this.#options.fallbackAfter - 1, 0);
      this.#disconnect(CloseCode.NORMAL, 'retrying WebSocket', 'now');
    });
  }

  /**
   * A WebSocket that failed before `connected` without a server's close code (blocked
   * upgrade, proxy, connect timeout): after `fallbackAfter` in a row the client uses SSE.
   * True when it switched (the caller reconnects at once).
   */
  #upgradeFailed(code: number): boolean {
    if (this.#transport !== 'websocket' || this.#state === 'open' || !UPGRADE_FAILURES.has(code)) return false;
    this.#upgradeFailures += 1;
    if (this.#upgradeFailures < this.#options.fallbackAfter || !this.#options.transports.includes('sse')) return false;
    this.#transport = 'sse';
    this.#attempts = 0;
    return true;
  }

  #setState(next: ConnectionState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    this.#hooks.state(next, previous);
  }

  async #open(): Promise<void> {
    const id = ++this.#socketId;
    let token: string | null | undefined;
    try {
      token = await this.#options.getToken({ forceRefresh: this.#authRetry });
    } catch (cause) {
      if (id !== this.#socketId) return;
      this.#hooks.fail(ClientErrorCode.TOKEN_PROVIDER, 'the token provider failed', { cause });
      this.#disconnect(CloseCode.INTERNAL_ERROR, 'token provider failed', true);
      return;
    }
    if (id !== this.#socketId) return; // closed or restarted while waiting for the token
    if (!token) {
      this.#hooks.fail(ClientErrorCode.NO_TOKEN, 'no token to connect with (the token provider returned none; the default reads localStorage key "token")');
      this.#disconnect(CloseCode.UNAUTHORIZED, 'no token', false);
      return;
    }
    const admin = this.#options.isAdmin === 'auto' ? tokenSaysAdmin(token) : this.#options.isAdmin;
    const sse = this.#transport === 'sse';
    const url = new URL(sse ? sseEndpointFor(this.#options, admin) : endpointFor(this.#options, admin));
    const since = this.#hooks.since();
    if (since) url.searchParams.set('since', since);
    if (this.#options.tokenTransport === 'query') url.searchParams.set('token', token);
    let socket: WebSocketLike;
    try {
      if (sse) {
        if (!this.#options.streamFetch) throw new TypeError('no fetch available for the SSE transport; pass the `fetch` option');
        socket = new SseSocket(url.toString(), { token, tokenInQuery: this.#options.tokenTransport === 'query', httpUrl: this.#options.httpUrl, fetch: this.#options.streamFetch });
      } else {
        socket =
          this.#options.tokenTransport === 'protocol'
            ? new this.#options.WebSocket(url.toString(), ['bearer', token])
            : new this.#options.WebSocket(url.toString());
      }
    } catch (cause) {
      this.#hooks.fail(ClientErrorCode.TRANSPORT, 'could not create the WebSocket', { cause });
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
      if (id === this.#socketId) this.#hooks.fail(ClientErrorCode.TRANSPORT, event?.message ?? 'WebSocket error', { cause: event?.error ?? event });
    };
    socket.onclose = (event: { code: number; reason: string }) => {
      if (id === this.#socketId) this.#onClose(event.code, event.reason ?? '');
    };
    this.#timers.schedule('connect', this.#options.connectTimeout, () => {
      if (id !== this.#socketId) return;
      this.#disconnect(CloseCode.INTERNAL_ERROR, 'connect timeout', this.#upgradeFailed(1006) ? 'now' : true);
    });
  }

  #onFrame(data: unknown): void {
    // Any frame proves the link is alive, not just the pong (a busy server may queue it).
    this.#timers.cancel('pong');
    if (typeof data !== 'string' || data === PONG) return;
    this.#hooks.frame(data);
  }

  #onClose(code: number, reason: string): void {
    const cause = reason ? `${code} ${reason}` : `${code}`;
    switch (closeAction(code)) {
      case 'done':
        this.#disconnect(code, reason, false);
        return;
      case 'giveUp':
        this.#hooks.fail(ClientErrorCode.FORBIDDEN, `the server refused the connection (${cause})`, { closeCode: code });
        this.#disconnect(code, reason, false);
        return;
      case 'refreshToken':
        if (this.#authRetry || !this.#options.autoReconnect) {
          this.#hooks.fail(ClientErrorCode.AUTH, `the server refused the token (${cause})`, { closeCode: code });
          this.#disconnect(code, reason, false);
        } else {
          this.#authRetry = true;
          this.#disconnect(code, reason, 'now');
        }
        return;
      case 'reconnect':
        if (this.#upgradeFailed(code)) this.#disconnect(code, reason, 'now');
        else this.#disconnect(code, reason, true, code === CloseCode.GOING_AWAY || code === CloseCode.RESUME_LIMITED ? reconnectHint(reason) : undefined);
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
    if (wasLive && this.#state !== 'closed') this.#hooks.disconnected({ code, reason, willReconnect });
    if (willReconnect) {
      this.#setState('reconnecting');
      if (reconnect === 'now') {
        void this.#open();
        return;
      }
      const { reconnectInterval, maxReconnectInterval, random } = this.#options;
      const wait = delay ?? backoff(this.#attempts, reconnectInterval, maxReconnectInterval, random);
      this.#attempts += 1;
      this.#timers.schedule('reconnect', wait, () => void this.#open());
      return;
    }
    if (exhausted) {
      // Keep the online listener (the socket and timers are gone): coming back online is a good reason to try again.
      this.#exhausted = true;
      this.#hooks.fail(ClientErrorCode.RECONNECT_EXHAUSTED, `gave up after ${this.#attempts} reconnect attempts (last close ${code} ${reason})`, { closeCode: code });
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
    this.#timers.clear();
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

  /** Releases every timer and listener the connection holds. */
  #cleanup(): void {
    this.#dropSocket();
    this.#offOnline?.();
    this.#offOnline = null;
  }

  #onOnlineChange(online: boolean): void {
    if (!online) return; // a dead link is found by the heartbeat; an offline event alone is not proof
    if (this.#state === 'closed' && this.#exhausted) {
      this.connect();
    } else if (this.#state === 'reconnecting' && this.#socket === null) {
      this.#timers.cancel('reconnect');
      void this.#open();
    }
  }

  #startHeartbeat(): void {
    const interval = this.#options.heartbeatInterval;
    if (interval <= 0) return;
    this.#timers.schedule('ping', interval, () => {
      if (!this.send('ping')) return;
      if (!this.#timers.has('pong')) {
        this.#timers.schedule('pong', this.#options.heartbeatTimeout, () => {
          this.#disconnect(CloseCode.HEARTBEAT_TIMEOUT, 'no pong within heartbeatTimeout', true);
        });
      }
      this.#startHeartbeat();
    });
  }
}
