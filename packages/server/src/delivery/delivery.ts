import { resyncRequiredMessage, type ServerMessage, type StreamName, type StreamPosition } from '@herald/protocol';
import type { StoredNotification } from '../store/index.js';
import { planOpening, resumed, type Heads, type Opening } from './opening.js';

/** `replaying` while reading the store (live messages wait), `live` after, `stopped` once ended. */
export type DeliveryPhase = 'replaying' | 'live' | 'stopped';

/** Where missed messages are read from (the store). */
export interface ReplaySource {
  readStream(stream: string, after: number, limit: number): Promise<StoredNotification[]>;
}

/** What delivery needs to know of a live message: persisted ones carry their stream and offset. */
export interface LiveMeta {
  type: string;
  stream?: string;
  offset?: number;
}

/** Where delivery puts what is due, in order. `T` is a live message as the caller holds it. */
export interface DeliverySink<T, M extends LiveMeta> {
  /** A message built here: the opening messages, `resync_required`, `resumed`. */
  message(message: ServerMessage): void;
  /** A notification read from the store (replay or gap fill). */
  stored(row: StoredNotification): void;
  /** A live persisted message, next in its stream. */
  live(item: T, meta: M): void;
  /** A live message without a position (progress, read changes), in arrival order. */
  ephemeral(item: T, meta: M): void;
  /** A store read failed: delivery has stopped, the session cannot keep its promise. */
  failed(error: unknown): void;
  /**
   * Backpressure for the replay: a promise when the transport holds too much unsent (the
   * replay waits for it before the next stored row), undefined when it may go on.
   */
  drained?(): Promise<void> | undefined;
}

const REPLAY_BATCH = 500;
/** Rounds of filling a gap before taking it as pruned from the store. */
const MAX_GAP_ROUNDS = 5;

/**
 * The exactly-once rules of one connection, without sockets or I/O: each stream is delivered
 * in offset order, once, from where the client stopped. While replaying (on open, or to fill
 * a gap a live message revealed) live messages wait in a queue; after the replay they are
 * drained in order, those already replayed dropped by offset.
 */
export class Delivery<T, M extends LiveMeta = LiveMeta> {
  readonly streams: readonly StreamName[];
  #phase: DeliveryPhase = 'replaying';
  readonly #positions = new Map<string, number>();
  #pending: Array<{ item: T; meta: M }> = [];
  readonly #source: ReplaySource;
  readonly #sink: DeliverySink<T, M>;

  constructor(streams: readonly StreamName[], source: ReplaySource, sink: DeliverySink<T, M>) {
    this.streams = streams;
    this.#source = source;
    this.#sink = sink;
  }

  get phase(): DeliveryPhase {
    return this.#phase;
  }

  /** The last offset delivered (or skipped) per stream. */
  get positions(): StreamPosition {
    return Object.fromEntries(this.#positions);
  }

  /**
   * Opens the session: `connected`, `since` errors, the in-flight snapshot, `resync_required`
   * for streams older than retention, the replay of what was missed, then `resumed`.
   * Call it once the connection receives live messages (they wait meanwhile).
   */
  async open(opening: Opening): Promise<void> {
    const plan = planOpening(this.streams, opening);
    for (const [stream, offset] of plan.positions) this.#positions.set(stream, offset);
    for (const message of plan.messages) this.#sink.message(message);
    const replayed = await this.#catchUp(opening.heads);
    if (this.#phase === 'live') this.#sink.message(resumed(this.positions, replayed));
  }

  /** One live message from the broker. */
  push(item: T, meta: M): void {
    if (this.#phase === 'replaying') {
      this.#pending.push({ item, meta });
      return;
    }
    if (this.#phase !== 'live') return;
    if (meta.stream === undefined || meta.offset === undefined) {
      this.#sink.ephemeral(item, meta);
      return;
    }
    const position = this.#positions.get(meta.stream);
    if (position === undefined || meta.offset <= position) return;
    if (meta.offset === position + 1) {
      this.#positions.set(meta.stream, meta.offset);
      this.#sink.live(item, meta);
      return;
    }
    // A gap: an earlier message was published where this node could not see it. Fill from the store.
    this.#phase = 'replaying';
    this.#pending.push({ item, meta });
    void this.#catchUp();
  }

  /** Re-reads every stream from the store (the broker may have lost messages, e.g. Redis reconnected). */
  resync(): void {
    if (this.#phase !== 'live') return;
    this.#phase = 'replaying';
    void this.#catchUp();
  }

  /** Ends delivery: nothing more reaches the sink. */
  stop(): void {
    this.#phase = 'stopped';
    this.#pending = [];
  }

  /**
   * Replays from the store, then drains what arrived meanwhile; ends live. Returns the count
   * replayed. `heads` (read after the connection subscribed) spares the first round a query
   * for every stream already at its head: anything newer arrives live.
   */
  async #catchUp(heads?: Heads): Promise<number> {
    let replayed = 0;
    try {
      for (let round = 0; ; round++) {
        for (const stream of this.streams) {
          const atHead = round === 0 && heads !== undefined && (this.#positions.get(stream) ?? 0) >= (heads[stream]?.head ?? 0);
          if (!atHead) replayed += await this.#replayStream(stream);
        }
        if (this.#phase !== 'replaying') return replayed;
        const gap = this.#drainPending();
        if (!gap) break;
        if (round >= MAX_GAP_ROUNDS) this.#skipPrunedGap(gap);
      }
      this.#phase = 'live';
    } catch (error) {
      this.stop();
      this.#sink.failed(error);
    }
    return replayed;
  }

  async #replayStream(stream: string): Promise<number> {
    let count = 0;
    for (;;) {
      const rows = await this.#source.readStream(stream, this.#positions.get(stream) ?? 0, REPLAY_BATCH);
      if (this.#phase !== 'replaying') return count;
      for (const row of rows) {
        this.#positions.set(stream, row.seq);
        this.#sink.stored(row);
        count++;
        const wait = this.#sink.drained?.();
        if (wait !== undefined) {
          await wait;
          if (this.#phase !== 'replaying') return count;
        }
      }
      if (rows.length < REPLAY_BATCH) return count;
    }
  }

  /** Sends queued live messages in order; stops at the first gap and returns its stream. */
  #drainPending(): { stream: string; offset: number } | undefined {
    while (this.#pending.length > 0) {
      const { item, meta } = this.#pending[0];
      const { stream, offset } = meta;
      if (stream !== undefined && offset !== undefined) {
        const position = this.#positions.get(stream);
        if (position !== undefined && offset > position + 1) return { stream, offset };
        this.#pending.shift();
        // Already delivered, or of a stream this connection does not read.
        if (position === undefined || offset <= position) continue;
        this.#positions.set(stream, offset);
        this.#sink.live(item, meta);
      } else {
        this.#pending.shift();
        this.#sink.ephemeral(item, meta);
      }
    }
    return undefined;
  }

  /** The missing messages are gone from the store (pruned): skip them and tell the client to resync. */
  #skipPrunedGap(gap: { stream: string; offset: number }): void {
    this.#positions.set(gap.stream, gap.offset - 1);
    const streams = this.streams.filter((name) => name === gap.stream);
    this.#sink.message(resyncRequiredMessage(streams, 'messages are no longer in the store; fetch the inbox over HTTP', this.positions));
  }
}
