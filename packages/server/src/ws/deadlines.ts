const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Deadlines of many connections (token expiry, the `token_expiring` hint) on one Node timer.
 * Callbacks due at the same millisecond share a bucket (token expiries fall on whole seconds),
 * and one timer is armed for the earliest bucket. A timer per connection costs a Timeout, its
 * closure and, per distinct duration, a TimersList: about 450 bytes for every connection.
 */
export class Deadlines {
  /** Callbacks by the epoch millisecond they are due. */
  readonly #due = new Map<number, Set<() => void>>();
  /** The keys of `#due`, ascending. */
  readonly #times: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  readonly #fire = (): void => this.#runDue();

  /** Runs `run` once at `at` (epoch ms; as soon as possible when it has passed). */
  add(at: number, run: () => void): void {
    let bucket = this.#due.get(at);
    if (bucket === undefined) {
      this.#due.set(at, (bucket = new Set()));
      this.#times.splice(this.#insertionPoint(at), 0, at);
    }
    bucket.add(run);
    if (at < this.#armedFor) this.#arm();
  }

  /** Forgets `run` at `at` (what `add` was given); a no-op when it already ran. */
  remove(at: number, run: () => void): void {
    const bucket = this.#due.get(at);
    if (bucket === undefined || !bucket.delete(run) || bucket.size > 0) return;
    this.#due.delete(at);
    this.#times.splice(this.#insertionPoint(at), 1);
    if (this.#times.length === 0) this.#disarm();
  }

  /** Deadlines waiting (for tests and statistics). */
  get size(): number {
    let n = 0;
    for (const bucket of this.#due.values()) n += bucket.size;
    return n;
  }

  #insertionPoint(at: number): number {
    let lo = 0;
    let hi = this.#times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#times[mid] < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const next = this.#times[0];
    if (next === undefined) return this.#disarm();
    this.#armedFor = next;
    // Not unref'd: Node keeps the list of a cleared unref'd timer (one per distinct duration)
    // until its original time. The timer runs only while deadlines wait, i.e. connections are open.
    this.#timer = setTimeout(this.#fire, Math.min(Math.max(next - Date.now(), 0), MAX_TIMER_MS));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #runDue(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    // Node's timer may fire a millisecond before the wall clock reaches the deadline: only
    // what is due by Date.now() runs (a token is expired from its `exp` on, never before).
    const now = Date.now();
    while (this.#times.length > 0 && this.#times[0] <= now) {
      const at = this.#times.shift()!;
      const bucket = this.#due.get(at)!;
      this.#due.delete(at);
      for (const run of bucket) run();
    }
    this.#arm();
  }
}

/** The deadlines of every connection of this process. */
export const connectionDeadlines = new Deadlines();
