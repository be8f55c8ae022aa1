import type { Timers } from './environment.js';

/**
 * Pending timers by purpose: scheduling a name again replaces its timer, and `clear()`
 * ends them all. The client's timers live here only, so one call releases every one.
 */
export class TimerSet<Name extends string> {
  readonly #timers: Timers;
  readonly #pending = new Map<Name, unknown>();

  constructor(timers: Timers) {
    this.#timers = timers;
  }

  has(name: Name): boolean {
    return this.#pending.has(name);
  }

  schedule(name: Name, ms: number, callback: () => void): void {
    this.cancel(name);
    this.#pending.set(
      name,
      this.#timers.setTimeout(() => {
        this.#pending.delete(name);
        callback();
      }, ms),
    );
  }

  cancel(name: Name): void {
    const handle = this.#pending.get(name);
    if (handle === undefined) return;
    this.#pending.delete(name);
    this.#timers.clearTimeout(handle);
  }

  clear(): void {
    for (const name of [...this.#pending.keys()]) this.cancel(name);
  }
}
