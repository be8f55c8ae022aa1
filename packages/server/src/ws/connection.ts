import { CloseCode, type ConnectionStats, type ServerMessage, type StreamName, type StreamPosition } from '@herald/protocol';
import type { WebSocket } from 'ws';
import { Delivery, type DeliveryPhase, type DeliverySink, type Opening, type ReplaySource } from '../delivery/index.js';
import { wireText, type WireMeta } from '../notifications/index.js';
import type { StoredNotification } from '../store/index.js';
import { ProgressCoalescer } from './coalesce.js';
import { TokenBucket, handleFrame, type CommandPeer } from './commands.js';
import { FrameWriter, type Payload } from './frames.js';

/** Lifecycle of one WebSocket connection: delivery's phases while open, then closing and closed. */
export type ConnectionState = Exclude<DeliveryPhase, 'stopped'> | 'closing' | 'closed';

/** What a connection needs from its node, beyond its socket. */
export interface ConnectionHost {
  readonly replay: ReplaySource;
  stats(): Promise<ConnectionStats>;
  markRead(conn: Connection, ids: number[] | 'all'): Promise<void>;
  onSent(type: string): void;
  onClosed(conn: Connection, code: number): void;
}

export interface ConnectionLimits {
  sendBufferBytes: number;
  maxMessagesPerSecond: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const FORCE_CLOSE_MS = 5000;
export const CONNECTION = Symbol('herald.connection');

let nextId = 1;

/**
 * One authenticated WebSocket: the session. Delivery (exactly once, in order) is the
 * `Delivery` rules' job, progress coalescing the coalescer's, inbound commands `commands.ts`',
 * writes `frames.ts`'; the connection ties them to its socket, its heartbeat and the expiry
 * of its token, and closes through one path.
 */
export class Connection implements CommandPeer {
  readonly id = nextId++;
  readonly userId: number;
  readonly isAdmin: boolean;
  /** Whether the user is an administrator (their inbox and unread count include the admins' stream). */
  readonly userIsAdmin: boolean;
  readonly streams: readonly StreamName[];
  /** What carries the session: a WebSocket, or an SSE stream (`sse/`) that quacks like one. */
  readonly transport: 'ws' | 'sse';
  alive = true;

  #lifecycle: 'open' | 'closing' | 'closed' = 'open';
  readonly #ws: WebSocket;
  readonly #host: ConnectionHost;
  readonly #limits: ConnectionLimits;
  readonly #delivery: Delivery<Payload, WireMeta>;
  readonly #writer: FrameWriter;
  readonly #progress: ProgressCoalescer;
  readonly #bucket: TokenBucket;
  #expiryTimer: NodeJS.Timeout | undefined;
  /** The code the server closed with, if it started the close (a peer that never answers ends as 1006). */
  #closeCode: number | undefined;

  constructor(
    ws: WebSocket,
    identity: { userId: number; isAdmin: boolean; userIsAdmin: boolean; streams: readonly StreamName[]; expiresAt: number; transport?: 'ws' | 'sse' },
    host: ConnectionHost,
    limits: ConnectionLimits,
  ) {
    this.#ws = ws;
    this.#host = host;
    this.#limits = limits;
    this.userId = identity.userId;
    this.isAdmin = identity.isAdmin;
    this.userIsAdmin = identity.userIsAdmin;
    this.streams = identity.streams;
    this.transport = identity.transport ?? 'ws';
    this.#delivery = new Delivery(identity.streams, host.replay, new SessionSink(this));
    this.#writer = new FrameWriter(ws);
    this.#progress = new ProgressCoalescer(ws, this, limits.sendBufferBytes);
    this.#bucket = new TokenBucket(limits.maxMessagesPerSecond);
    (ws as unknown as Record<symbol, Connection>)[CONNECTION] = this;
    ws.on('message', onWsMessage);
    ws.on('pong', onWsPong);
    ws.on('close', onWsClose);
    const delay = Math.min(identity.expiresAt - Date.now(), MAX_TIMER_MS);
    // Not unref'd: Node keeps the list of an unref'd timer (one list per distinct duration, so
    // one per connection here) until its time comes even when cleared, which would hold memory
    // for every closed connection for the rest of its token's lifetime. `cleanup` clears it.
    this.#expiryTimer = setTimeout(() => this.close(CloseCode.UNAUTHORIZED, 'token expired'), Math.max(delay, 0));
  }

  get state(): ConnectionState {
    if (this.#lifecycle !== 'open') return this.#lifecycle;
    return this.#delivery.phase === 'live' ? 'live' : 'replaying';
  }

  /** Whether the connection still sends (neither closing nor closed). */
  get open(): boolean {
    return this.#lifecycle === 'open';
  }

  get positions(): StreamPosition {
    return this.#delivery.positions;
  }

  /** Starts the session (see `Delivery.open`): the opening messages, the replay, then live. */
  start(opening: Opening): Promise<void> {
    return this.#delivery.open(opening);
  }

  /** Delivers one broker payload (already encoded and framed once for every socket of the node). */
  deliver(data: Payload, meta: WireMeta): void {
    this.#delivery.push(data, meta);
  }

  /** Re-reads every stream from the store: the broker may have lost messages (e.g. Redis reconnected). */
  resync(): void {
    this.#delivery.resync();
  }

  /** A message without a position: through the progress coalescer, which keeps slow consumers current. */
  sendEphemeral(data: Payload, meta: WireMeta): void {
    this.#progress.offer(data, meta);
  }

  /** Writes one text message now; a connection whose send buffer overflows is closed instead. */
  send(data: Payload, type: string): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > this.#limits.sendBufferBytes) {
      this.close(CloseCode.SLOW_CONSUMER, 'send buffer overflow; reconnect and resume');
      return;
    }
    this.#writer.write(data);
    this.#host.onSent(type);
  }

  /** Sends a message outside the stream machinery (stats, errors). */
  reply(message: ServerMessage): void {
    this.send(JSON.stringify(message), message.type);
  }

  /** Sends a plain text frame (`pong`). */
  replyText(text: string): void {
    this.send(text, text);
  }

  stats(): Promise<ConnectionStats> {
    return this.#host.stats();
  }

  markRead(ids: number[] | 'all'): Promise<void> {
    return this.#host.markRead(this, ids);
  }

  /** Heartbeat sweep: false if the previous ping went unanswered (the socket is terminated). */
  heartbeat(): boolean {
    if (!this.alive) {
      this.#ws.terminate();
      return false;
    }
    this.alive = false;
    try {
      this.#ws.ping();
    } catch {
      this.#ws.terminate();
      return false;
    }
    return true;
  }

  /** The one way the server ends a connection. */
  close(code: number, reason: string): void {
    if (this.#lifecycle !== 'open') return;
    this.#lifecycle = 'closing';
    this.#delivery.stop();
    this.#closeCode = code;
    this.#writer.flush();
    this.#ws.close(code, reason);
    const force = setTimeout(() => this.#ws.terminate(), FORCE_CLOSE_MS);
    force.unref();
  }

  terminate(): void {
    this.#ws.terminate();
  }

  /** Called once when the socket is gone; a close the server started counts with its own code. */
  cleanup(code: number): void {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    this.#delivery.stop();
    clearTimeout(this.#expiryTimer);
    this.#progress.clear();
    this.#host.onClosed(this, this.#closeCode ?? code);
  }

  /** One inbound frame (see `commands.ts`). */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.alive = true;
    handleFrame(this, this.#bucket, data, isBinary);
  }
}

/** Where a connection's delivery rules put what is due. */
class SessionSink implements DeliverySink<Payload, WireMeta> {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  message(message: ServerMessage): void {
    this.#conn.reply(message);
  }

  stored(row: StoredNotification): void {
    this.#conn.send(wireText(row), row.type);
  }

  live(data: Payload, meta: WireMeta): void {
    this.#conn.send(data, meta.type);
  }

  ephemeral(data: Payload, meta: WireMeta): void {
    this.#conn.sendEphemeral(data, meta);
  }

  failed(): void {
    this.#conn.close(CloseCode.INTERNAL_ERROR, 'replay failed; reconnect and resume');
  }
}

function connectionOf(ws: WebSocket): Connection {
  return (ws as unknown as Record<symbol, Connection>)[CONNECTION];
}

function onWsMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  connectionOf(this).receive(data, isBinary);
}

function onWsPong(this: WebSocket): void {
  connectionOf(this).alive = true;
}

function onWsClose(this: WebSocket, code: number): void {
  connectionOf(this).cleanup(code);
}
