import { CloseCode, tokenExpiringMessage, tokenRefreshedMessage, type ConnectionStats, type ServerMessage, type StreamName, type StreamPosition } from '@herald/protocol';
import type { WebSocket } from 'ws';
import { Delivery, type DeliveryPhase, type DeliverySink, type Opening, type ReplaySource } from '../delivery/index.js';
import { wireText, type WireMeta } from '../notifications/index.js';
import type { StoredNotification } from '../store/index.js';
import { ProgressCoalescer } from './coalesce.js';
import { TokenBucket, handleFrame, type CommandPeer } from './commands.js';
import { connectionDeadlines } from './deadlines.js';
import { FrameWriter, whenDrained, type Payload } from './frames.js';

/** Lifecycle of one WebSocket connection: delivery's phases while open, then closing and closed. */
export type ConnectionState = Exclude<DeliveryPhase, 'stopped'> | 'closing' | 'closed';

/** What a connection needs from its node, beyond its socket. */
export interface ConnectionHost {
  readonly replay: ReplaySource;
  stats(): Promise<ConnectionStats>;
  markRead(conn: Connection, ids: number[] | 'all'): Promise<void>;
  reauthenticate(conn: Connection, token: string): Promise<void>;
  onSent(type: string): void;
  onClosed(conn: Connection, code: number): void;
}

export interface ConnectionLimits {
  sendBufferBytes: number;
  maxMessagesPerSecond: number;
  /** See `FrameWriter`: 0 flushes live frames when the event loop's current pass ends. */
  writeDelayMs?: number;
}

const FORCE_CLOSE_MS = 5000;
/** The `token_expiring` hint goes out this long before expiry (at most half the token's remaining life). */
export const EXPIRY_HINT_MS = 30_000;
const MIN_HINT_LEAD_MS = 2000;
/** A replay that cannot write for this long (the client stopped reading) ends as a slow consumer. */
export const REPLAY_STALL_MS = 30_000;
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
  /** Whether the user is an administrator (their inbox and unread count include the admins' stream); `demote()` clears it. */
  userIsAdmin: boolean;
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
  /** When the token expires and when its hint is due (epoch ms; undefined: not scheduled). */
  #expiryAt: number | undefined;
  #hintAt: number | undefined;
  #expiresAt = 0;
  readonly #expire = (): void => {
    this.#expiryAt = undefined;
    this.close(CloseCode.UNAUTHORIZED, 'token expired');
  };
  readonly #hint = (): void => {
    this.#hintAt = undefined;
    this.reply(tokenExpiringMessage(this.#expiresAt));
  };
  /** The code the server closed with, if it started the close (a peer that never answers ends as 1006). */
  #closeCode: number | undefined;
  /** Inbound frames held until `connected` is sent (commands are answered after it); null once it is. */
  #early: Array<{ data: Buffer | ArrayBuffer | Buffer[]; isBinary: boolean }> | null = [];
  /** Answers still due to commands already accepted: a rate-limit close waits for them. */
  readonly #answering = new Set<Promise<void>>();
  /** A rate-limit close is pending: no more frames are accepted. */
  #refusing = false;

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
    this.#writer = new FrameWriter(ws, limits.writeDelayMs);
    this.#progress = new ProgressCoalescer(ws, this, limits.sendBufferBytes);
    this.#bucket = new TokenBucket(limits.maxMessagesPerSecond);
    (ws as unknown as Record<symbol, Connection>)[CONNECTION] = this;
    ws.on('message', onWsMessage);
    ws.on('pong', onWsPong);
    ws.on('close', onWsClose);
    this.#armExpiry(identity.expiresAt);
  }

  /** The expiry deadline and the `token_expiring` hint before it (one timer for every connection: `Deadlines`). */
  #armExpiry(expiresAt: number): void {
    this.#clearDeadlines();
    this.#expiresAt = expiresAt;
    const remaining = expiresAt - Date.now();
    this.#expiryAt = expiresAt;
    connectionDeadlines.add(expiresAt, this.#expire);
    const lead = Math.min(EXPIRY_HINT_MS, remaining / 2);
    if (lead >= MIN_HINT_LEAD_MS) {
      this.#hintAt = Math.round(expiresAt - lead);
      connectionDeadlines.add(this.#hintAt, this.#hint);
    }
  }

  #clearDeadlines(): void {
    if (this.#expiryAt !== undefined) connectionDeadlines.remove(this.#expiryAt, this.#expire);
    if (this.#hintAt !== undefined) connectionDeadlines.remove(this.#hintAt, this.#hint);
    this.#expiryAt = undefined;
    this.#hintAt = undefined;
  }

  /** A fresh token was accepted in-band: the connection now lasts until `expiresAt` (epoch ms). */
  extend(expiresAt: number): void {
    if (this.#lifecycle !== 'open') return;
    this.#armExpiry(expiresAt);
    this.reply(tokenRefreshedMessage(expiresAt));
  }

  reauthenticate(token: string): Promise<void> {
    return this.#host.reauthenticate(this, token);
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
    // `open` sends the opening messages (`connected` first) before its first await.
    const opened = this.#delivery.open(opening);
    this.#answerEarly();
    return opened;
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

  /**
   * Replay backpressure: past half the send buffer, a promise that settles once the socket
   * drained below it; a client that reads nothing for `REPLAY_STALL_MS` is closed with 4010.
   */
  replayDrained(): Promise<void> | undefined {
    const waiting = whenDrained(this.#ws, this.#limits.sendBufferBytes / 2, REPLAY_STALL_MS);
    if (waiting === undefined) return undefined;
    return waiting.then((drained) => {
      if (!drained) this.close(CloseCode.SLOW_CONSUMER, 'replay stalled: the client stopped reading; reconnect and resume');
    });
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

  /** The user lost admin rights: from now on this socket acts for a plain user (read marks, unread counts). */
  demote(): void {
    this.userIsAdmin = false;
  }

  /** Called once when the socket is gone; a close the server started counts with its own code. */
  cleanup(code: number): void {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    this.#delivery.stop();
    this.#clearDeadlines();
    this.#progress.clear();
    this.#host.onClosed(this, this.#closeCode ?? code);
  }

  /** One inbound frame (see `commands.ts`); held until `connected` is sent. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    this.alive = true;
    const early = this.#early;
    if (early === null) this.#handle(data, isBinary);
    else if (early.length <= this.#limits.maxMessagesPerSecond) early.push({ data, isBinary });
    // Beyond that, the held frames already exceed the rate: handling them closes with 4008.
  }

  /** Closes with `code` once every command accepted so far is answered; later frames are ignored. */
  closeWhenAnswered(code: number, reason: string): void {
    if (this.#refusing) return;
    this.#refusing = true;
    void Promise.allSettled([...this.#answering]).then(() => this.close(code, reason));
  }

  #handle(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.#refusing || this.#lifecycle !== 'open') return;
    const answer = handleFrame(this, this.#bucket, data, isBinary);
    if (answer === undefined) return;
    this.#answering.add(answer);
    const settled = (): void => void this.#answering.delete(answer);
    answer.then(settled, settled);
  }

  /** `connected` is out: the commands that arrived before it are handled now, in order. */
  #answerEarly(): void {
    const early = this.#early ?? [];
    this.#early = null;
    for (const { data, isBinary } of early) this.#handle(data, isBinary);
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

  drained(): Promise<void> | undefined {
    return this.#conn.replayDrained();
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
