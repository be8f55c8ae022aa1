import { CompiledQuery, sql, type Kysely, type Transaction } from 'kysely';
import type { Database, Dialect } from './schema.js';

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

/** One notification of a batch, before it is stored. */
export interface NewNotification {
  stream: string;
  type: string;
  payload: Record<string, unknown>;
}

/** A request made once per caller and key: its body's hash, and how to answer it from what was stored. */
export interface OnceOnly {
  scope: string;
  key: string;
  hash: string;
  answer(stored: StoredNotification[]): string;
}

/** What a batch append did: stored the batch (and recorded its answer), or found the key already used. */
export type BatchResult = { stored: StoredNotification[]; answer?: string } | { earlier: { hash: string; answer: string } };

export type Heads = Record<string, { head: number; pruned: number }>;

/**
 * Notification streams: appends with per-stream offsets, reads by offset, stream heads.
 * Offsets are allocated in the same transaction as the insert, so they are strictly
 * increasing and gapless per stream, also with concurrent writers on several nodes.
 */
export class StreamStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: Dialect;

  constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /** Appends a notification to its stream and returns it with its id and offset. */
  async append(stream: string, type: string, payload: Record<string, unknown>, createdAt = Date.now()): Promise<StoredNotification> {
    return this.#db.transaction().execute((trx) => insertNotification(trx, stream, type, payload, createdAt));
  }

  /**
   * Appends a batch in one transaction (all stored or none), in order. With `once`, the
   * request's answer is recorded in the same transaction; a key the caller already used
   * returns what it was recorded with instead, and nothing is stored.
   */
  async appendBatch(items: readonly NewNotification[], once?: OnceOnly, createdAt = Date.now()): Promise<BatchResult> {
    if (once) {
      const earlier = await this.#request(once);
      if (earlier) return { earlier };
    }
    if (items.length === 0 && !once) return { stored: [] };
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const stored = await insertBatch(trx, this.#dialect, items, createdAt);
        if (!once) return { stored };
        const answer = once.answer(stored);
        await trx.insertInto('idempotent_requests').values({ scope: once.scope, key: once.key, body_hash: once.hash, answer, created_at: createdAt }).execute();
        return { stored, answer };
      });
    } catch (error) {
      // A concurrent request with the same key won the insert: answer as it was answered.
      const earlier = once && (await this.#request(once).catch(() => undefined));
      if (earlier) return { earlier };
      throw error;
    }
  }

  async #request(once: OnceOnly): Promise<{ hash: string; answer: string } | undefined> {
    return this.findRequest(once.scope, once.key);
  }

  /** The body hash and answer a caller's earlier request with `key` was recorded with. */
  async findRequest(scope: string, key: string): Promise<{ hash: string; answer: string } | undefined> {
    const row = await this.#db
      .selectFrom('idempotent_requests')
      .select(['body_hash', 'answer'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    return row && { hash: row.body_hash, answer: row.answer };
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

/** Rows (and streams) per multi-row statement: 6 × 500 parameters, well under SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 500;

/** SQL text of the multi-row statements by dialect and row count (built once; SQLite's statement cache keys on it). */
const batchSql = new Map<string, string>();

function placeholders(dialect: Dialect, rows: number, perRow: number, constant = ''): string {
  const out: string[] = [];
  for (let r = 0, n = 1; r < rows; r++) {
    const params: string[] = [];
    for (let c = 0; c < perRow; c++, n++) params.push(dialect === 'postgres' ? `$${n}` : '?');
    out.push(`(${params.join(', ')}${constant})`);
  }
  return out.join(', ');
}

function headsSql(dialect: Dialect, rows: number): string {
  const key = `h${dialect}${rows}`;
  let text = batchSql.get(key);
  if (text === undefined) {
    text = `insert into stream_heads (stream, last_seq, pruned_seq) values ${placeholders(dialect, rows, 2, ', 0')}
      on conflict (stream) do update set last_seq = stream_heads.last_seq + excluded.last_seq returning stream, last_seq`;
    batchSql.set(key, text);
  }
  return text;
}

function rowsSql(dialect: Dialect, rows: number): string {
  const key = `n${dialect}${rows}`;
  let text = batchSql.get(key);
  if (text === undefined) {
    text = `insert into notifications (stream, seq, type, payload, level, created_at) values ${placeholders(dialect, rows, 6)} returning id, stream, seq`;
    batchSql.set(key, text);
  }
  return text;
}

/**
 * A batch's insert path, the same rows as `insertNotification` makes one by one, in a few
 * statements: each stream's head moves by its count in the batch in one upsert (streams in
 * sorted order, so concurrent batches lock heads in the same order), every row goes in with
 * one multi-row insert (per 500). Prepared SQL text, no query builder: building two queries
 * per event cost more CPU than SQLite took to write the rows.
 */
async function insertBatch(trx: Transaction<Database>, dialect: Dialect, items: readonly NewNotification[], createdAt: number): Promise<StoredNotification[]> {
  if (items.length === 0) return [];
  // Serialise first: a payload that cannot be stored fails the batch before any statement runs.
  const texts = items.map((item) => JSON.stringify(item.payload));
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.stream, (counts.get(item.stream) ?? 0) + 1);
  const streams = [...counts.keys()].sort();
  const next = new Map<string, number>();
  for (let i = 0; i < streams.length; i += ROWS_PER_STATEMENT) {
    const chunk = streams.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    for (const stream of chunk) params.push(stream, counts.get(stream)!);
    const { rows } = await trx.executeQuery<{ stream: string; last_seq: number }>(CompiledQuery.raw(headsSql(dialect, chunk.length), params));
    for (const row of rows) next.set(row.stream, Number(row.last_seq) - counts.get(row.stream)! + 1);
  }
  const stored: StoredNotification[] = items.map((item) => {
    const seq = next.get(item.stream)!;
    next.set(item.stream, seq + 1);
    return { id: 0, stream: item.stream, seq, type: item.type, payload: item.payload, created_at: createdAt };
  });
  for (let i = 0; i < stored.length; i += ROWS_PER_STATEMENT) {
    const chunk = stored.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    chunk.forEach((s, j) => params.push(s.stream, s.seq, s.type, texts[i + j], typeof s.payload.level === 'string' ? s.payload.level : null, createdAt));
    const { rows } = await trx.executeQuery<{ id: number; stream: string; seq: number }>(CompiledQuery.raw(rowsSql(dialect, chunk.length), params));
    // RETURNING's order is not promised: match each row by its (stream, offset), unique.
    const ids = new Map<string, number>();
    for (const row of rows) ids.set(`${Number(row.seq)}:${row.stream}`, Number(row.id));
    for (const s of chunk) s.id = ids.get(`${s.seq}:${s.stream}`)!;
  }
  return stored;
}

/** A single notification's insert path (`append`): next offset of its stream, then the row. */
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
