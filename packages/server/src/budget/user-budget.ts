/** The answer of a budget: spent, or refused with how long until it can be spent again. */
export type Spend = { ok: true } | { ok: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Entries kept before full buckets are swept (a full bucket is the same as no entry). */
const SWEEP_AT = 10_000;

/**
 * A token bucket per user: `perMinute` units refill linearly over a minute, up to `perMinute`.
 * A spend needs its cost in the bucket; one that costs more than the whole budget (a very
 * large resume) needs a full bucket and leaves it in debt, which the user waits out. Per node.
 */
export class UserBudget {
  readonly #perMinute: number;
  readonly #buckets = new Map<number, Bucket>();

  constructor(perMinute: number) {
    this.#perMinute = perMinute;
  }

  /** Spends `cost` units of `userId`'s budget, or says how long until it has some again. Costing nothing is always allowed. */
  spend(userId: number, cost: number, now = Date.now()): Spend {
    if (cost <= 0) return { ok: true };
    const bucket = this.#refilled(userId, now);
    const needed = Math.min(cost, this.#perMinute);
    if (bucket.tokens < needed) return { ok: false, retryAfterMs: Math.ceil(((needed - bucket.tokens) / this.#perMinute) * 60_000) };
    bucket.tokens -= cost;
    this.#buckets.set(userId, bucket);
    if (this.#buckets.size > SWEEP_AT) this.#sweep(now);
    return { ok: true };
  }

  #refilled(userId: number, now: number): Bucket {
    const bucket = this.#buckets.get(userId);
    if (!bucket) return { tokens: this.#perMinute, at: now };
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + ((now - bucket.at) / 60_000) * this.#perMinute);
    bucket.at = now;
    return bucket;
  }

  #sweep(now: number): void {
    for (const [userId, bucket] of this.#buckets) {
      if (bucket.tokens + ((now - bucket.at) / 60_000) * this.#perMinute >= this.#perMinute) this.#buckets.delete(userId);
    }
  }
}

/** The heavy work a signed-in user can ask for, bounded per user (docs/limits.md). */
export class WorkBudgets {
  /** Rows replayed on resume (`since`), over every connection of the user. */
  readonly resume: UserBudget;
  /** `mark_all_read` over the WebSocket and `POST /api/v1/notifications/read-all`, together. */
  readonly readAll: UserBudget;

  constructor(limits: { resumeRowsPerMinute: number; readAllPerMinute: number }) {
    this.resume = new UserBudget(limits.resumeRowsPerMinute);
    this.readAll = new UserBudget(limits.readAllPerMinute);
  }
}

/** The words of a refused read-all, the same over HTTP and the WebSocket. */
export function readAllRefusal(retryAfterMs: number): string {
  return `mark_all_read (read-all) is limited per user; retry in ${Math.ceil(retryAfterMs / 1000)} s`;
}
