import type { StreamPosition } from '@herald/protocol';

/**
 * Positions the client has seen per stream, plus a bounded set of recent ids, to resume
 * after a reconnect (`since`) and drop duplicates at the replay/live seam.
 */
export class PositionTracker {
  #positions: StreamPosition;
  #recentIds = new Set<number>();
  readonly #maxIds: number;

  constructor(initial: StreamPosition = {}, maxIds = 1000) {
    this.#positions = { ...initial };
    this.#maxIds = maxIds;
  }

  get positions(): StreamPosition {
    return { ...this.#positions };
  }

  /**
   * Records a persisted message; returns `false` when it is a duplicate (its offset is not
   * beyond what was seen in its stream, or its id was seen already).
   */
  accept(stream: string, offset: number, id: number | undefined): boolean {
    const seen = this.#positions[stream];
    if (seen !== undefined && offset <= seen) return false;
    if (id !== undefined && this.#recentIds.has(id)) return false;
    this.#positions[stream] = offset;
    if (id !== undefined) {
      this.#recentIds.add(id);
      if (this.#recentIds.size > this.#maxIds) {
        const oldest = this.#recentIds.values().next().value;
        if (oldest !== undefined) this.#recentIds.delete(oldest);
      }
    }
    return true;
  }

  /** Moves forward to the given positions (never backwards): after `resumed`. */
  advance(positions: StreamPosition): void {
    for (const [stream, offset] of Object.entries(positions)) {
      const seen = this.#positions[stream];
      if (typeof offset === 'number' && (seen === undefined || offset > seen)) this.#positions[stream] = offset;
    }
  }

  /**
   * Sets the given streams to exactly these positions, also backwards: the server says
   * where a connection stands (`connected.streams`, `resync_required.positions`). Going
   * backwards means the server's streams were reset, so remembered ids are forgotten too.
   * `exclusive` also drops streams not named (the connection does not read them).
   */
  reset(positions: StreamPosition, exclusive = false): void {
    let backwards = false;
    if (exclusive) {
      for (const stream of Object.keys(this.#positions)) if (!(stream in positions)) delete this.#positions[stream];
    }
    for (const [stream, offset] of Object.entries(positions)) {
      if (typeof offset !== 'number') continue;
      const seen = this.#positions[stream];
      if (seen !== undefined && offset < seen) backwards = true;
      this.#positions[stream] = offset;
    }
    if (backwards) this.#recentIds.clear();
  }
}

/**
 * Unread count as server truth with local increments. A server count is applied only if
 * the positions it was taken at are, for every stream, not older than those of the last
 * applied count (counts can arrive out of order: the `connected` count of one connection,
 * an inbox refetch, a `notifications_read` from another device). Messages counted
 * locally and not yet covered by the applied count are added on top.
 */
export class UnreadTracker {
  #count = 0;
  #basis: StreamPosition | undefined;
  #local: Array<{ stream: string; offset: number }> = [];

  get count(): number {
    return this.#count;
  }

  /** Applies a server count; returns whether it was applied. */
  applyServer(count: number, positions: StreamPosition): boolean {
    const basis = this.#basis;
    if (basis) {
      for (const [stream, offset] of Object.entries(basis)) {
        if ((positions[stream] ?? -1) < offset) return false;
      }
    }
    this.#basis = { ...positions };
    this.#local = this.#local.filter((m) => m.offset > (positions[m.stream] ?? -1));
    this.#count = Math.max(0, count) + this.#local.length;
    return true;
  }

  /** Counts a new persisted message unless the last applied count already covers it. */
  addLocal(stream: string, offset: number): void {
    const covered = this.#basis?.[stream];
    if (covered !== undefined && offset <= covered) return;
    this.#local.push({ stream, offset });
    this.#count += 1;
  }

  /** Optimistic read-all (the server's `notifications_read` confirms it). */
  clearLocal(): void {
    this.#local = [];
    this.#count = 0;
  }
}
