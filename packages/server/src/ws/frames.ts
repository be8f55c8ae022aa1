import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

/**
 * Everything Herald does to `ws` below its public API lives here: live fan-out frames are
 * built once per node with `ws`'s `Sender.frame` and written straight to each socket, and
 * every message due for a socket in one turn of the event loop leaves in one write. Both
 * rest on capability checks; without them each message goes through `ws.send`.
 */

type FrameFn = (data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }) => Buffer[];

/** `ws`'s public static frame builder (engine.io uses it the same way), if this `ws` has it. */
const senderFrame: FrameFn | undefined = (() => {
  const frame = (wsModule as { Sender?: { frame?: unknown } }).Sender?.frame;
  return typeof frame === 'function' ? (frame as FrameFn) : undefined;
})();

const TEXT_OPCODE = 0x01;

/**
 * One text message framed once for every socket of the node: the payload and its complete
 * server-to-client frame (FIN, text opcode, unmasked, no extension bits: Herald never
 * negotiates compression). `frame` is undefined when `ws` offers no `Sender.frame`.
 */
export class SharedFrame {
  readonly frame: Buffer | undefined;

  constructor(readonly payload: Buffer) {
    if (senderFrame === undefined) return;
    const [header, data] = senderFrame(payload, { fin: true, opcode: TEXT_OPCODE, mask: false, readOnly: false, rsv1: false });
    this.frame = data === undefined ? header : Buffer.concat([header, data], header.length + data.length);
  }
}

/** A text message as a connection holds it: a string or buffer to send, or a frame shared by the node. */
export type Payload = string | Buffer | SharedFrame;

/** The open TCP (or TLS) socket under a `ws` WebSocket, when `ws` exposes one we can write to. */
function rawSocket(ws: WebSocket): Socket | null {
  const socket = (ws as unknown as { _socket?: unknown })._socket;
  return socket instanceof Socket && socket.writable ? socket : null;
}

/**
 * Sockets corked during this turn of the event loop (opening messages and replies leave in
 * one write at its end), and writers holding live frames: those leave once the I/O phase that
 * produced them is over (`setImmediate`), or after the write delay when one is configured.
 * So every live message due for a socket from the publishes, broker reads and HTTP requests
 * handled in one pass of the event loop (or within the delay) leaves in one write; a lone
 * frame leaves in a plain write, without waiting for a timer.
 */
const corked: Socket[] = [];
let endOfTurnScheduled = false;

function endOfTurn(): void {
  endOfTurnScheduled = false;
  for (let i = 0; i < corked.length; i++) corked[i].uncork();
  corked.length = 0;
}

/** Corks the socket until the end of this turn, so every frame due now leaves in one write. */
function corkForTurn(socket: Socket): void {
  if (socket.writableCorked !== 0) return;
  socket.cork();
  corked.push(socket);
  if (endOfTurnScheduled) return;
  endOfTurnScheduled = true;
  process.nextTick(endOfTurn);
}

/** Writers holding live frames, flushed together (one list per write delay; a process has one). */
class HeldFrames {
  readonly #writers: FrameWriter[] = [];
  #scheduled = false;
  readonly #flushAll = (): void => {
    this.#scheduled = false;
    const writers = this.#writers.splice(0);
    for (let i = 0; i < writers.length; i++) writers[i].flush();
    forgetJoined();
  };

  constructor(readonly delayMs: number) {}

  add(writer: FrameWriter): void {
    this.#writers.push(writer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.delayMs > 0) setTimeout(this.#flushAll, this.delayMs);
    else setImmediate(this.#flushAll);
  }
}

const heldByDelay = new Map<number, HeldFrames>();
const heldFor = (delayMs: number): HeldFrames => {
  let held = heldByDelay.get(delayMs);
  if (held === undefined) heldByDelay.set(delayMs, (held = new HeldFrames(delayMs)));
  return held;
};

/** Writes the text messages of one WebSocket, in order, live frames batched as described above. */
export class FrameWriter {
  readonly #ws: WebSocket;
  readonly #held: HeldFrames;
  /** Live frames due on the socket when the held frames are flushed. */
  #frames: Buffer | Buffer[] | undefined;

  /** `writeDelayMs`: how long a live frame may wait for later ones to share its write (`WS_WRITE_DELAY_MS`). */
  constructor(ws: WebSocket, writeDelayMs = 0) {
    this.#ws = ws;
    this.#held = heldFor(writeDelayMs);
  }

  write(data: Payload): void {
    const socket = rawSocket(this.#ws);
    if (data instanceof SharedFrame) {
      // The frame is already built: it goes to the socket as ws.send would write it. Without
      // compression ws writes synchronously, so order with its own frames is kept (held frames
      // are flushed before any of them), and written bytes count in ws.bufferedAmount.
      if (socket !== null && data.frame !== undefined) this.#hold(data.frame);
      else this.#ws.send(data.payload, { binary: false });
    } else {
      // Opening messages (connected, snapshot, replay) and replies leave together too.
      this.flush();
      if (socket !== null) corkForTurn(socket);
      this.#ws.send(data, { binary: false });
    }
  }

  #hold(frame: Buffer): void {
    const frames = this.#frames;
    if (frames === undefined) {
      this.#frames = frame;
      this.#held.add(this);
    } else if (Array.isArray(frames)) frames.push(frame);
    else this.#frames = [frames, frame];
  }

  /** Writes the frames held so far: one write whether one frame or many. */
  flush(): void {
    const frames = this.#frames;
    if (frames === undefined) return;
    this.#frames = undefined;
    // A close frame may have gone out meanwhile (the peer closed): nothing may follow it.
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    const socket = rawSocket(this.#ws);
    if (socket === null) return;
    socket.write(Array.isArray(frames) ? joined(frames) : frames);
  }
}

/**
 * Several frames for one socket leave as one buffer in one plain write: a corked writev costs
 * Node several times a write in user space. Sockets of one flush mostly hold the same frames
 * in the same order, so the concatenation is made once and shared until the list differs.
 */
let lastFrames: Buffer[] | undefined;
let lastJoined: Buffer | undefined;

function joined(frames: Buffer[]): Buffer {
  const last = lastFrames;
  if (last !== undefined && last.length === frames.length) {
    let same = true;
    for (let i = 0; i < frames.length && same; i++) same = frames[i] === last[i];
    if (same) return lastJoined!;
  }
  lastFrames = frames;
  lastJoined = Buffer.concat(frames);
  return lastJoined;
}

/** Lets the last concatenation go (end of a flush): it holds its frames. */
function forgetJoined(): void {
  lastFrames = undefined;
  lastJoined = undefined;
}

/** How often a wait for drain re-checks `bufferedAmount` when no socket event tells it. */
const DRAIN_RECHECK_MS = 25;

/**
 * Resolves once the socket holds at most `belowBytes` unsent (true), or false when `timeoutMs`
 * passes first; undefined when it already does (the caller goes on without awaiting). Waits for
 * the TCP socket's `drain` (or its close), re-checking on a short timer for what `ws` queues itself.
 */
export function whenDrained(ws: WebSocket, belowBytes: number, timeoutMs: number): Promise<boolean> | undefined {
  if (ws.bufferedAmount <= belowBytes || ws.readyState !== ws.OPEN) return undefined;
  const socket = rawSocket(ws);
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const check = (): void => {
      clearTimeout(timer);
      if (ws.bufferedAmount <= belowBytes || ws.readyState !== ws.OPEN) return done(true);
      if (Date.now() >= deadline) return done(false);
      timer = setTimeout(check, DRAIN_RECHECK_MS);
    };
    const done = (drained: boolean): void => {
      clearTimeout(timer);
      socket?.off('drain', check);
      ws.off('close', check);
      resolve(drained);
    };
    socket?.on('drain', check);
    ws.on('close', check);
    timer = setTimeout(check, DRAIN_RECHECK_MS);
  });
}

/** Longest close reason a close frame holds (RFC 6455: 125 bytes of payload, 2 of them the code). */
const MAX_CLOSE_REASON_BYTES = 123;

type ReceiverError = Error & { code?: string };

/** The close code `ws` attached to a receiver error (its `status-code` symbol), or a protocol error. */
function statusOf(error: ReceiverError): number {
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code');
  const code = key === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[key];
  return typeof code === 'number' ? code : 1002;
}

function closeReason(error: ReceiverError, maxPayloadBytes: number): string {
  const text =
    error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || error.code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
      ? `message too big: the limit is ${maxPayloadBytes} bytes (WS_MAX_PAYLOAD_BYTES)`
      : error.code === 'WS_ERR_INVALID_UTF8'
        ? 'text frame is not valid UTF-8'
        : error.code === 'WS_ERR_TOO_MANY_BUFFERED_PARTS'
          ? 'message in too many fragments'
          : `protocol error: ${error.message}`;
  return Buffer.from(text).subarray(0, MAX_CLOSE_REASON_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}

/**
 * `ws` closes a socket whose frame it refuses (too big: 1009, bad UTF-8: 1007, framing: 1002)
 * with an empty reason; this closes it first, with the same code and a reason naming the
 * problem. Capability checked: without `ws`'s receiver, the close keeps `ws`'s empty reason.
 */
export function explainRefusedFrames(ws: WebSocket, maxPayloadBytes: number): void {
  const receiver = (ws as unknown as { _receiver?: unknown })._receiver;
  if (!(receiver instanceof EventEmitter)) return;
  receiver.prependListener('error', (error: ReceiverError) => {
    if (ws.readyState === ws.OPEN) ws.close(statusOf(error), closeReason(error, maxPayloadBytes));
  });
}
