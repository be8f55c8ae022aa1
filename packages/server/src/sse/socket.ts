import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { formatSince, type StreamPosition } from '@herald/protocol';
import { CONNECTION } from '../ws/connection.js';
import { SharedFrame } from '../ws/frames.js';

/** `ws`'s ready states, which the session reads. */
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Close code reported when the client (or the network) ended the stream first. */
const ABNORMAL = 1006;

const CLOSE_EVENT = 'event: close\ndata: ';
const DATA = 'data: ';
const END = '\n\n';
/** An SSE comment: proxies see traffic, EventSource ignores it. */
export const HEARTBEAT_COMMENT = ': heartbeat\n\n';

/** `data: <json>\n\n` of a payload shared by every SSE stream of the node, decoded once. */
const sharedData = new WeakMap<Buffer, string>();

function dataOf(payload: string | Buffer): string {
  if (typeof payload === 'string') return DATA + payload + END;
  let framed = sharedData.get(payload);
  if (framed === undefined) {
    framed = DATA + payload.toString('utf8') + END;
    sharedData.set(payload, framed);
  }
  return framed;
}

/** Responses corked in this turn of the event loop: every message due now leaves in one write. */
const corked: ServerResponse[] = [];
let uncorkScheduled = false;

function uncorkAll(): void {
  uncorkScheduled = false;
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}

function corkForTurn(res: ServerResponse): void {
  if (res.writableCorked !== 0) return;
  res.cork();
  corked.push(res);
  if (uncorkScheduled) return;
  uncorkScheduled = true;
  process.nextTick(uncorkAll);
}

/**
 * One `text/event-stream` response dressed as the part of `ws`'s `WebSocket` that a session
 * (`ws/connection.ts`) uses: `send` writes an SSE event, `close(code, reason)` writes
 * `event: close` with `{code, reason}` then ends, `ping` writes a heartbeat comment,
 * `bufferedAmount` is what Node still holds for the response (so the slow-consumer cut and
 * progress coalescing apply unchanged), and `close` is emitted once the response is gone.
 *
 * Every message carries `id: <positions>` in the `since` format (`user:42@17,broadcast@5`):
 * the session's positions once that message is delivered, so `Last-Event-ID` resumes
 * exactly where the client stopped. The id is written only when it changes.
 */
export class SseSocket extends EventEmitter {
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;
  readyState: number = OPEN;
  readonly #res: ServerResponse;
  #lastId = '';
  /** The code of the close the server started (a stream the client ended reports 1006). */
  #closeCode: number | undefined;

  constructor(res: ServerResponse) {
    super();
    this.#res = res;
    res.on('close', () => this.#closed());
    res.on('error', () => res.destroy());
    // Heartbeats are the sign of life for a stream: a drained buffer after a stall proves the reader is back.
    res.on('drain', () => this.emit('pong'));
  }

  get bufferedAmount(): number {
    // Node counts what the response holds and what its socket still has to write.
    return this.#res.writableLength;
  }

  /** Writes one message as an SSE event (JSON never holds a raw newline, so one `data:` line). */
  send(data: string | Buffer | SharedFrame): void {
    if (this.readyState !== OPEN) return;
    const payload = data instanceof SharedFrame ? data.payload : data;
    corkForTurn(this.#res);
    const id = this.#positionId();
    // One write per message: each write of a chunked response costs three socket writes.
    if (id !== this.#lastId && id !== '') {
      this.#lastId = id;
      this.#res.write(`id: ${id}\n${dataOf(payload)}`);
    } else this.#res.write(dataOf(payload));
  }

  /** A heartbeat comment; answered at once (`pong`) unless the stream is stalled behind a full buffer. */
  ping(): void {
    if (this.readyState !== OPEN) return;
    this.#res.write(HEARTBEAT_COMMENT);
    if (!this.#res.writableNeedDrain) this.emit('pong');
  }

  /** `event: close` with the code and reason, then the end of the response. */
  close(code: number, reason: string): void {
    if (this.readyState !== OPEN) return;
    this.readyState = CLOSING;
    this.#closeCode = code;
    this.#res.end(CLOSE_EVENT + JSON.stringify({ code, reason }) + END);
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.#res.destroy();
  }

  #closed(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit('close', this.#closeCode ?? ABNORMAL, Buffer.alloc(0));
  }

  #positionId(): string {
    const conn = (this as unknown as Record<symbol, { positions: StreamPosition } | undefined>)[CONNECTION];
    return conn ? formatSince(conn.positions) : '';
  }
}
