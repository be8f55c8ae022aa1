import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Deletes old notifications and idempotency keys. */
export class RetentionStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /**
   * Deletes notifications older than `maxAgeMs` and beyond `maxPerStream` per stream, and
   * records the highest pruned offset so resumes from before it get `resync_required`.
   */
  async prune(maxAgeMs: number, maxPerStream: number, now = Date.now()): Promise<number> {
    await this.#db.deleteFrom('idempotency_keys').where('created_at', '<', now - maxAgeMs).execute();
    await this.#db.deleteFrom('idempotent_requests').where('created_at', '<', now - maxAgeMs).execute();
    const heads = await this.#db.selectFrom('stream_heads').selectAll().execute();
    let deleted = 0;
    for (const row of heads) {
      const byCount = Number(row.last_seq) - maxPerStream;
      const byAge = await this.#db
        .selectFrom('notifications')
        .select((eb) => eb.fn.max<number>('seq').as('seq'))
        .where('stream', '=', row.stream)
        .where('created_at', '<', now - maxAgeMs)
        .executeTakeFirst();
      const through = Math.max(byCount, Number(byAge?.seq ?? 0));
      if (through <= Number(row.pruned_seq)) continue;
      await this.#db.transaction().execute(async (trx) => {
        const result = await trx.deleteFrom('notifications').where('stream', '=', row.stream).where('seq', '<=', through).executeTakeFirst();
        deleted += Number(result.numDeletedRows);
        await trx.updateTable('stream_heads').set({ pruned_seq: through }).where('stream', '=', row.stream).where('pruned_seq', '<', through).execute();
      });
    }
    return deleted;
  }
}

const PRUNE_EVERY_MS = 10 * 60_000;

/** Prunes every ten minutes until the returned function is called. */
export function schedulePruning(retention: RetentionStore, maxAgeMs: number, maxPerStream: number, onError: (err: unknown) => void): () => void {
  const timer = setInterval(() => {
    retention.prune(maxAgeMs, maxPerStream).catch(onError);
  }, PRUNE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
