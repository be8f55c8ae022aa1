/** How long a message ahead of its stream's next offset waits for the ones before it. */
export const REORDER_WAIT_MS = 50;
/** Messages held per stream at most; past it they all go out (connections fill any gap from the store). */
const MAX_HELD_PER_STREAM = 1000;

/**
 * The node's view of each stream's order. Concurrent publishers (several HTTP requests, several
 * nodes) commit in one order and reach the broker in another, so offset 7 may arrive before 6.
 * Handed on as they came, every connection of the stream would see a gap and read it from the
 * store: one query per connection. Here a message ahead of the next offset waits (at most
 * REORDER_WAIT_MS) for the ones before it, and the node hands them on in order, once.
 */
export class StreamOrder<T> {
  readonly #deliver: (stream: string, item: T) => void;
  readonly #waitMs: number;
  /** The offset each stream expects next (unknown until its first message). */
  readonly #next = new Map<string, number>();
  readonly #held = new Map<string, { items: Map<number, T>; timer: NodeJS.Timeout }>();

  constructor(deliver: (stream: string, item: T) => void, waitMs = REORDER_WAIT_MS) {
    this.#deliver = deliver;
    this.#waitMs = waitMs;
  }

  /** Hands `item` (at `offset` of `stream`) on now, or once the offsets before it have come (or waited long enough). */
  offer(stream: string, offset: number, item: T): void {
    const next = this.#next.get(stream);
    if (next === undefined || offset === next) {
      this.#next.set(stream, offset + 1);
      this.#deliver(stream, item);
      this.#drain(stream);
      return;
    }
    // Already passed (a duplicate, or released after the wait): connections ignore what they have.
    if (offset < next) return this.#deliver(stream, item);
    let held = this.#held.get(stream);
    if (held === undefined) {
      held = { items: new Map(), timer: setTimeout(() => this.#release(stream), this.#waitMs) };
      this.#held.set(stream, held);
    }
    held.items.set(offset, item);
    if (held.items.size >= MAX_HELD_PER_STREAM) this.#release(stream);
  }

  /** Forgets a stream (no local connection reads it any more). */
  forget(stream: string): void {
    const held = this.#held.get(stream);
    if (held !== undefined) clearTimeout(held.timer);
    this.#held.delete(stream);
    this.#next.delete(stream);
  }

  /** Messages waiting (for tests and statistics). */
  get waiting(): number {
    let n = 0;
    for (const held of this.#held.values()) n += held.items.size;
    return n;
  }

  #drain(stream: string): void {
    const held = this.#held.get(stream);
    if (held === undefined) return;
    let next = this.#next.get(stream)!;
    for (let item = held.items.get(next); item !== undefined; item = held.items.get(next)) {
      held.items.delete(next);
      this.#next.set(stream, ++next);
      this.#deliver(stream, item);
    }
    if (held.items.size === 0) {
      clearTimeout(held.timer);
      this.#held.delete(stream);
    }
  }

  /** The wait is over: what came goes out in offset order; the stream expects the one after the last. */
  #release(stream: string): void {
    const held = this.#held.get(stream);
    if (held === undefined) return;
    clearTimeout(held.timer);
    this.#held.delete(stream);
    const offsets = [...held.items.keys()].sort((a, b) => a - b);
    this.#next.set(stream, offsets[offsets.length - 1] + 1);
    for (const offset of offsets) this.#deliver(stream, held.items.get(offset)!);
  }
}
