import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';

/** A persisted notification as stored: its wire fields are in `payload`. */
export interface StoredNotification {
  id: number;
  stream: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  created_at: number;
}

export interface NotificationRow {
  id: number;
  stream: string;
  seq: number;
  type: string;
  payload: string;
  created_at: number;
}

export const toStored = (row: NotificationRow): StoredNotification => ({
  id: Number(row.id),
  stream: row.stream,
  seq: Number(row.seq),
  type: row.type,
  payload: JSON.parse(row.payload) as Record<string, unknown>,
  created_at: Number(row.created_at),
});

export type Heads = Record<string, { head: number; pruned: number }>;

/**
 * Notification streams: appends with per-stream offsets, reads by offset, stream heads.
 * Offsets are allocated in the same transaction as the insert, so they are strictly
 * increasing and gapless per stream, also with concurrent writers on several nodes.
 */
export class StreamStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Appends a notification to its stream and returns it with its id and offset. */
  async append(stream: string, type: string, payload: Record<string, unknown>, createdAt = Date.now()): Promise<StoredNotification> {
    return this.#db.transaction().execute((trx) => insertNotification(trx, stream, type, payload, createdAt));
  }

  /**
   * Appends once per key: a producer that retries after an error (a 503 whose commit may
   * have gone through) gets the notification written the first time, flagged `replayed`.
   */
  async appendOnce(key: string, stream: string, type: string, payload: Record<string, unknown>): Promise<{ stored: StoredNotification; replayed: boolean }> {
    const existing = await this.#byKey(key);
    if (existing) return { stored: existing, replayed: true };
    try {
      const stored = await this.#db.transaction().execute(async (trx) => {
        const inserted = await insertNotification(trx, stream, type, payload, Date.now());
        await trx.insertInto('idempotency_keys').values({ key, notification_id: inserted.id, created_at: inserted.created_at }).execute();
        return inserted;
      });
      return { stored, replayed: false };
    } catch (error) {
      // A concurrent request with the same key won the insert: answer with its notification.
      const winner = await this.#byKey(key);
      if (winner) return { stored: winner, replayed: true };
      throw error;
    }
  }

  async #byKey(key: string): Promise<StoredNotification | undefined> {
    const row = await this.#db
      .selectFrom('idempotency_keys as k')
      .innerJoin('notifications as n', 'n.id', 'k.notification_id')
      .select(['n.id', 'n.stream', 'n.seq', 'n.type', 'n.payload', 'n.created_at'])
      .where('k.key', '=', key)
      .executeTakeFirst();
    return row && toStored(row);
  }

  // The reads below run on every connect and replay. They are written with Kysely's `sql`
  // template rather than its query builder: building and compiling a query costs tens of µs
  // of CPU per call, several times what SQLite needs to answer it.

  /** Messages of one stream with offsets in (after, upTo], oldest first. */
  async readStream(stream: string, after: number, limit: number, upTo?: number): Promise<StoredNotification[]> {
    const upper = upTo === undefined ? sql`` : sql` and seq <= ${upTo}`;
    const { rows } = await sql<NotificationRow>`select id, stream, seq, type, payload, created_at from notifications
      where stream = ${stream} and seq > ${after}${upper} order by seq limit ${limit}`.execute(this.#db);
    return rows.map(toStored);
  }

  /** Head offset and highest pruned offset of each stream (0 for streams never written). */
  async heads(streams: string[]): Promise<Heads> {
    const result: Heads = {};
    for (const stream of streams) result[stream] = { head: 0, pruned: 0 };
    if (streams.length === 0) return result;
    const { rows } = await sql<{ stream: string; last_seq: number; pruned_seq: number }>`select stream, last_seq, pruned_seq from stream_heads
      where stream in (${sql.join(streams)})`.execute(this.#db);
    for (const row of rows) result[row.stream] = { head: Number(row.last_seq), pruned: Number(row.pruned_seq) };
    return result;
  }
}

/** The one insert path of a notification: next offset of its stream, then the row. */
async function insertNotification(
  trx: Transaction<Database>,
  stream: string,
  type: string,
  payload: Record<string, unknown>,
  createdAt: number,
): Promise<StoredNotification> {
  const head = await trx
    .insertInto('stream_heads')
    .values({ stream, last_seq: 1, pruned_seq: 0 })
    .onConflict((oc) => oc.column('stream').doUpdateSet({ last_seq: sql<number>`stream_heads.last_seq + 1` }))
    .returning('last_seq')
    .executeTakeFirstOrThrow();
  const seq = Number(head.last_seq);
  const row = await trx
    .insertInto('notifications')
    .values({ stream, seq, type, payload: JSON.stringify(payload), level: typeof payload.level === 'string' ? payload.level : null, created_at: createdAt })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(row.id), stream, seq, type, payload, created_at: createdAt };
}
