import {
  CloseCode,
  ErrorCode,
  MessageType,
  PONG,
  parseClientMessage,
  type ConnectionStats,
  type StreamPosition,
} from '@herald/protocol';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { StoredNotification } from '../store/index.js';
import { nowIso, wireText, type WireMeta } from '../notifications/index.js';

/** Lifecycle of one WebSocket connection. */
export type ConnectionState = 'replaying' | 'live' | 'closing' | 'closed';

/** Where missed messages are read from during a replay. */
export interface ReplaySource {
  readStream(stream: string, after: number, limit: number): Promise<StoredNotification[]>;
  heads(streams: string[]): Promise<Record<string, { head: number; pruned: number }>>;
}

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

interface Pending {
  data: Buffer | string | SharedFrame;
  meta: WireMeta;
}

/**
 * One text message framed once for every socket of the node: the payload and its complete
 * server-to-client WebSocket frame (FIN, text opcode, unmasked, no extension bits: Herald
 * never negotiates compression). Live fan-out writes `frame` straight to each socket.
 */
export class SharedFrame {
  readonly frame: Buffer;

  constructor(readonly payload: Buffer) {
    const length = payload.length;
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const frame = Buffer.allocUnsafe(header + length);
    frame[0] = 0x81;
    if (length < 126) frame[1] = length;
    else if (length < 65536) {
      frame[1] = 126;
      frame.writeUInt16BE(length, 2);
    } else {
      frame[1] = 127;
      frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
      frame.writeUInt32BE(length >>> 0, 6);
    }
    payload.copy(frame, header);
    this.frame = frame;
  }
}

/**
 * Sockets corked during this turn of the event loop, and connections holding live frames
 * until its end: when several messages are due for a socket in one turn (a burst read from the
 * broker in one chunk), they leave in one write; a single frame leaves in a plain write.
 */
const corked: Socket[] = [];
const holding: Connection[] = [];
let endOfTurnScheduled = false;
/** The module's own handle on a connection's held frames (not part of its public surface). */
const FLUSH_HELD = Symbol('flushHeld');

function endOfTurn(): void {
  endOfTurnScheduled = false;
  for (let i = 0; i < holding.length; i++) holding[i][FLUSH_HELD]();
  holding.length = 0;
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}

function scheduleEndOfTurn(): void {
  if (endOfTurnScheduled) return;
  endOfTurnScheduled = true;
  process.nextTick(endOfTurn);
}

/** Corks the socket until the end of this turn, so every frame due now leaves in one write. */
function corkForTurn(socket: Socket): void {
  if (socket.writableCorked !== 0) return;
  socket.cork();
  corked.push(socket);
  scheduleEndOfTurn();
}

/** The socket under a `ws` WebSocket (present while the connection is open). */
function rawSocket(ws: WebSocket): Socket | null {
  return (ws as unknown as { _socket: Socket | null })._socket;
}

const REPLAY_BATCH = 500;
const MAX_GAP_ROUNDS = 5;
const COALESCE_FLUSH_MS = 50;
const MAX_TIMER_MS = 2 ** 31 - 1;
export const CONNECTION = Symbol('herald.connection');

let nextId = 1;

/**
 * One authenticated WebSocket. Delivers each stream in offset order exactly once:
 * while replaying (on connect or after a gap) live messages wait in `#pending`.
 */
export class Connection {
  readonly id = nextId++;
  readonly userId: number;
  readonly username: string;
  readonly isAdmin: boolean;
  /** Whether the user is an administrator (their inbox and unread count include the admins' stream). */
  readonly userIsAdmin: boolean;
  readonly streams: readonly string[];
  readonly ip: string;
  readonly connectedAt = Date.now();
  alive = true;

  #state: ConnectionState = 'replaying';
  readonly #ws: WebSocket;
  readonly #host: ConnectionHost;
  readonly #limits: ConnectionLimits;
  readonly #positions = new Map<string, number>();
  #pending: Pending[] = [];
  #coalesced = new Map<string, Buffer | string | SharedFrame>();
  /** Live frames due on the socket at the end of this turn (see `endOfTurn`). */
  #held: Buffer | Buffer[] | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  /** The code the server closed with, if it started the close (a peer that never answers ends as 1006). */
  #closeCode: number | undefined;
  #tokens: number;
  #refilledAt = Date.now();

  constructor(
    ws: WebSocket,
    identity: { userId: number; username: string; isAdmin: boolean; userIsAdmin: boolean; streams: readonly string[]; ip: string; expiresAt: number },
    host: ConnectionHost,
    limits: ConnectionLimits,
  ) {
    this.#ws = ws;
    this.#host = host;
    this.#limits = limits;
    this.userId = identity.userId;
    this.username = identity.username;
    this.isAdmin = identity.isAdmin;
    this.userIsAdmin = identity.userIsAdmin;
    this.streams = identity.streams;
    this.ip = identity.ip;
    this.#tokens = limits.maxMessagesPerSecond;
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
    return this.#state;
  }

  get positions(): StreamPosition {
    return Object.fromEntries(this.#positions);
  }

  #setState(next: ConnectionState): void {
    if (this.#state === 'closed') return;
    this.#state = next;
  }

  /**
   * Starts the connection: the `connected` message, the in-flight snapshot, the replay of
   * what was missed since `since`, then `resumed`; live messages queued meanwhile follow
   * without gap or duplicate.
   */
  async start(opening: {
    connected: Record<string, unknown>;
    snapshot: Record<string, unknown>[];
    since: StreamPosition | undefined;
    heads: Record<string, { head: number; pruned: number }>;
  }): Promise<void> {
    const resync: string[] = [];
    for (const stream of this.streams) {
      const { head, pruned } = opening.heads[stream] ?? { head: 0, pruned: 0 };
      const asked = opening.since?.[stream];
      if (asked === undefined) this.#positions.set(stream, head);
      else if (asked > head) {
        this.#sendJson({ type: MessageType.ERROR, code: ErrorCode.INVALID_SINCE, message: `since for ${stream} is ${asked} but the stream is at ${head}`, timestamp: nowIso() });
        this.#positions.set(stream, head);
      } else if (asked < pruned) {
        resync.push(stream);
        this.#positions.set(stream, head);
      } else this.#positions.set(stream, asked);
    }
    this.#sendJson({ ...opening.connected, streams: this.positions });
    for (const item of opening.snapshot) this.#sendJson(item);
    if (resync.length > 0) {
      this.#sendJson({
        type: MessageType.RESYNC_REQUIRED,
        streams: resync,
        reason: 'positions are older than the retention window; fetch the inbox over HTTP',
        positions: this.positions,
        timestamp: nowIso(),
      });
    }
    const replayed = await this.#catchUp(opening.heads);
    if (this.#state === 'live') {
      this.#sendJson({ type: MessageType.RESUMED, positions: this.positions, replayed, timestamp: nowIso() });
    }
  }

  /** Delivers one broker payload (already encoded and framed once for every socket of the node). */
  deliver(data: Buffer | string | SharedFrame, meta: WireMeta): void {
    if (this.#state === 'replaying') {
      this.#pending.push({ data, meta });
      return;
    }
    if (this.#state !== 'live') return;
    if (meta.stream === undefined || meta.offset === undefined) {
      this.#sendEphemeral(data, meta);
      return;
    }
    const position = this.#positions.get(meta.stream);
    if (position === undefined || meta.offset <= position) return;
    if (meta.offset === position + 1) {
      this.#positions.set(meta.stream, meta.offset);
      this.#send(data, meta.type);
      return;
    }
    // A gap: an earlier message was published where this node could not see it. Fill from the store.
    this.#setState('replaying');
    this.#pending.push({ data, meta });
    void this.#catchUp();
  }

  /**
   * Re-reads every stream from the store: called after the broker may have lost messages
   * (e.g. Redis reconnected), so nothing published meanwhile is missed.
   */
  resync(): void {
    if (this.#state !== 'live') return;
    this.#setState('replaying');
    void this.#catchUp();
  }

  /**
   * Replays from the store, then drains what arrived meanwhile; ends live. Returns the count
   * replayed. `heads` (read after this connection subscribed) spares the first round a query
   * for every stream already at its head: anything newer arrives live.
   */
  async #catchUp(heads?: Record<string, { head: number }>): Promise<number> {
    let replayed = 0;
    try {
      for (let round = 0; ; round++) {
        for (const stream of this.streams) {
          const atHead = round === 0 && heads !== undefined && (this.#positions.get(stream) ?? 0) >= (heads[stream]?.head ?? 0);
          if (!atHead) replayed += await this.#replayStream(stream);
        }
        if (this.#state !== 'replaying') return replayed;
        const gap = this.#drainPending();
        if (!gap) break;
        if (round >= MAX_GAP_ROUNDS) await this.#skipPrunedGap(gap);
      }
      this.#setState('live');
    } catch {
      this.close(CloseCode.INTERNAL_ERROR, 'replay failed; reconnect and resume');
    }
    return replayed;
  }

  async #replayStream(stream: string): Promise<number> {
    let count = 0;
    for (;;) {
      const rows = await this.#host.replay.readStream(stream, this.#positions.get(stream) ?? 0, REPLAY_BATCH);
      if (this.#state !== 'replaying') return count;
      for (const row of rows) {
        this.#positions.set(stream, row.seq);
        this.#send(wireText(row), row.type);
        count++;
      }
      if (rows.length < REPLAY_BATCH) return count;
    }
  }

  /** Sends queued live messages in order; stops at the first gap and returns its stream. */
  #drainPending(): { stream: string; offset: number } | undefined {
    while (this.#pending.length > 0) {
      const item = this.#pending[0];
      const { stream, offset } = item.meta;
      if (stream !== undefined && offset !== undefined) {
        const position = this.#positions.get(stream) ?? 0;
        if (offset > position + 1) return { stream, offset };
        this.#pending.shift();
        if (offset <= position) continue;
        this.#positions.set(stream, offset);
        this.#send(item.data, item.meta.type);
      } else {
        this.#pending.shift();
        this.#sendEphemeral(item.data, item.meta);
      }
    }
    return undefined;
  }

  /** The missing messages are gone from the store (pruned): tell the client to resync. */
  async #skipPrunedGap(gap: { stream: string; offset: number }): Promise<void> {
    this.#positions.set(gap.stream, gap.offset - 1);
    this.#sendJson({
      type: MessageType.RESYNC_REQUIRED,
      streams: [gap.stream],
      reason: 'messages are no longer in the store; fetch the inbox over HTTP',
      positions: this.positions,
      timestamp: nowIso(),
    });
  }

  #sendEphemeral(data: Buffer | string | SharedFrame, meta: WireMeta): void {
    if (meta.type !== MessageType.TRANSCODE_PROGRESS || this.#ws.bufferedAmount < this.#limits.sendBufferBytes / 4) {
      if (this.#coalesced.size === 0) this.#send(data, meta.type);
      else this.#coalesce(data, meta);
      return;
    }
    this.#coalesce(data, meta);
  }

  /** A slow consumer gets the latest progress of each job, not a queue of stale ticks. */
  #coalesce(data: Buffer | string | SharedFrame, meta: WireMeta): void {
    this.#coalesced.delete(meta.job_id ?? `video:${meta.video_id}`);
    this.#coalesced.set(meta.job_id ?? `video:${meta.video_id}`, data);
    this.#flushTimer ??= setTimeout(() => this.#flushCoalesced(), COALESCE_FLUSH_MS);
  }

  #flushCoalesced(): void {
    this.#flushTimer = undefined;
    if (this.#state === 'closed' || this.#state === 'closing') return;
    if (this.#ws.bufferedAmount >= this.#limits.sendBufferBytes / 4) {
      this.#flushTimer = setTimeout(() => this.#flushCoalesced(), COALESCE_FLUSH_MS);
      return;
    }
    const items = this.#coalesced;
    this.#coalesced = new Map();
    for (const data of items.values()) this.#send(data, MessageType.TRANSCODE_PROGRESS);
  }

  #sendJson(message: Record<string, unknown>): void {
    this.#send(JSON.stringify(message), String(message.type));
  }

  #send(data: Buffer | string | SharedFrame, type: string): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    if (this.#ws.bufferedAmount > this.#limits.sendBufferBytes) {
      this.close(CloseCode.SLOW_CONSUMER, 'send buffer overflow; reconnect and resume');
      return;
    }
    const socket = rawSocket(this.#ws);
    if (data instanceof SharedFrame) {
      // The frame is already built: it goes to the socket as ws.send would write it. Without
      // compression ws writes synchronously, so order with its own frames is kept (held frames
      // are flushed before any of them), and written bytes count in ws.bufferedAmount.
      if (socket !== null && socket.writable) this.#hold(data.frame);
      else this.#ws.send(data.payload, { binary: false });
    } else {
      // Opening messages (connected, snapshot, replay) and replies leave together too.
      this[FLUSH_HELD]();
      if (socket !== null && socket.writable) corkForTurn(socket);
      this.#ws.send(data, { binary: false });
    }
    this.#host.onSent(type);
  }

  #hold(frame: Buffer): void {
    const held = this.#held;
    if (held === undefined) {
      this.#held = frame;
      holding.push(this);
      scheduleEndOfTurn();
    } else if (Array.isArray(held)) held.push(frame);
    else this.#held = [held, frame];
  }

  /** Writes the frames held for this turn: one write whether one frame or many. */
  [FLUSH_HELD](): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    const socket = rawSocket(this.#ws);
    if (socket === null || !socket.writable) return;
    if (!Array.isArray(held)) {
      socket.write(held);
      return;
    }
    socket.cork();
    for (const frame of held) socket.write(frame);
    socket.uncork();
  }

  /** Sends a text frame outside the stream machinery (pong, stats, errors). */
  reply(data: string | Record<string, unknown>): void {
    if (typeof data === 'string') this.#send(data, data);
    else this.#sendJson(data);
  }

  handleText(text: string): void {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      this.reply({ type: MessageType.ERROR, code: parsed.code, message: parsed.error, timestamp: nowIso() });
      return;
    }
    const command = parsed.value;
    switch (command.type) {
      case 'ping':
        this.reply(PONG);
        return;
      case 'get_stats':
        void this.#host.stats().then((stats) => this.reply({ type: MessageType.STATS, connection_stats: stats, timestamp: nowIso() }));
        return;
      case 'mark_read':
        void this.#host.markRead(this, command.ids);
        return;
      case 'mark_all_read':
        void this.#host.markRead(this, 'all');
        return;
    }
  }

  /** Token bucket over inbound messages; false when the limit is exceeded. */
  takeToken(now = Date.now()): boolean {
    const rate = this.#limits.maxMessagesPerSecond;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
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

  close(code: number, reason: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    this.#setState('closing');
    this.#closeCode = code;
    this[FLUSH_HELD]();
    this.#ws.close(code, reason);
    const force = setTimeout(() => this.#ws.terminate(), 5000);
    force.unref();
  }

  terminate(): void {
    this.#ws.terminate();
  }

  /** Called once when the socket is gone; a close the server started counts with its own code. */
  cleanup(code: number): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    code = this.#closeCode ?? code;
    clearTimeout(this.#expiryTimer);
    clearTimeout(this.#flushTimer);
    this.#pending = [];
    this.#coalesced.clear();
    this.#host.onClosed(this, code);
  }
}

function connectionOf(ws: WebSocket): Connection {
  return (ws as unknown as Record<symbol, Connection>)[CONNECTION];
}

function onWsMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const conn = connectionOf(this);
  conn.alive = true;
  if (!conn.takeToken()) {
    conn.close(CloseCode.RATE_LIMITED, 'too many messages; slow down');
    return;
  }
  if (isBinary) {
    conn.reply({ type: MessageType.ERROR, code: ErrorCode.BINARY_NOT_SUPPORTED, message: 'binary frames are not supported; send text commands', timestamp: nowIso() });
    return;
  }
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
  conn.handleText(text);
}

function onWsPong(this: WebSocket): void {
  connectionOf(this).alive = true;
}

function onWsClose(this: WebSocket, code: number): void {
  connectionOf(this).cleanup(code);
}
