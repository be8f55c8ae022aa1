import type { StreamPosition } from '@herald/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import { toStored, type StoredNotification, type StreamStore } from './streams.js';

export interface InboxItem extends StoredNotification {
  read: boolean;
}

export interface UnreadState {
  count: number;
  /** Heads of the counted streams at the moment of counting. */
  positions: StreamPosition;
}

export interface InboxQuery {
  streams: string[];
  before?: number;
  limit: number;
  unreadOnly?: boolean;
  types?: string[];
  levels?: string[];
}

/** A user's view of the streams: inbox pages, unread counts, read marks and read-all watermarks. */
export class InboxStore {
  readonly #db: Kysely<Database>;
  readonly #streams: StreamStore;

  constructor(db: Kysely<Database>, streams: StreamStore) {
    this.#db = db;
    this.#streams = streams;
  }

  /** A page of a user's inbox over the given streams, newest first, with read flags. */
  async page(userId: number, query: InboxQuery): Promise<InboxItem[]> {
    let q = this.#db
      .selectFrom('notifications as n')
      .leftJoin('read_watermarks as w', (join) => join.onRef('w.stream', '=', 'n.stream').on('w.user_id', '=', userId))
      .leftJoin('read_marks as r', (join) => join.onRef('r.notification_id', '=', 'n.id').on('r.user_id', '=', userId))
      .select(['n.id', 'n.stream', 'n.seq', 'n.type', 'n.payload', 'n.created_at', 'w.seq as watermark', 'r.notification_id as read_id'])
      .where('n.stream', 'in', query.streams);
    if (query.before !== undefined) q = q.where('n.id', '<', query.before);
    if (query.types && query.types.length > 0) q = q.where('n.type', 'in', query.types);
    if (query.levels && query.levels.length > 0) q = q.where('n.level', 'in', query.levels);
    if (query.unreadOnly) {
      q = q.where('r.notification_id', 'is', null).where((eb) => eb.or([eb('w.seq', 'is', null), eb('n.seq', '>', eb.ref('w.seq'))]));
    }
    const rows = await q.orderBy('n.id', 'desc').limit(query.limit).execute();
    return rows.map((row) => ({
      ...toStored(row),
      read: row.read_id !== null || (row.watermark !== null && Number(row.seq) <= Number(row.watermark)),
    }));
  }

  /** Unread count over the streams, consistent with the stream heads it reports. */
  async unread(userId: number, streams: string[]): Promise<UnreadState> {
    return this.unreadAt(userId, streams, await this.#streams.heads(streams));
  }

  /**
   * Unread count up to heads the caller has already read (saves a query on connect).
   * Written with the `sql` template: it runs on every connect (see StreamStore's reads).
   */
  async unreadAt(userId: number, streams: string[], heads: Record<string, { head: number }>): Promise<UnreadState> {
    const positions: StreamPosition = {};
    for (const stream of streams) positions[stream] = heads[stream]?.head ?? 0;
    if (streams.length === 0) return { count: 0, positions };
    const upToHeads = sql.join(
      streams.map((stream) => sql`(n.stream = ${stream} and n.seq <= ${positions[stream]})`),
      sql` or `,
    );
    const { rows } = await sql<{ n: number }>`select count(*) as n from notifications n
      left join read_watermarks w on w.stream = n.stream and w.user_id = ${userId}
      left join read_marks r on r.notification_id = n.id and r.user_id = ${userId}
      where (${upToHeads}) and r.notification_id is null and (w.seq is null or n.seq > w.seq)`.execute(this.#db);
    return { count: Number(rows[0]?.n ?? 0), positions };
  }

  /** Marks the ids read that belong to the streams; returns the ids that did. */
  async markRead(userId: number, ids: number[], streams: string[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const visible = await this.#db.selectFrom('notifications').select('id').where('id', 'in', ids).where('stream', 'in', streams).execute();
    const found = visible.map((row) => Number(row.id));
    if (found.length > 0) {
      await this.#db
        .insertInto('read_marks')
        .values(found.map((id) => ({ user_id: userId, notification_id: id })))
        .onConflict((oc) => oc.columns(['user_id', 'notification_id']).doNothing())
        .execute();
    }
    return found;
  }

  /** Marks everything up to the current heads read, with one watermark per stream. */
  async markAllRead(userId: number, streams: string[]): Promise<void> {
    const heads = await this.#streams.heads(streams);
    await this.#db.transaction().execute(async (trx) => {
      for (const [stream, { head }] of Object.entries(heads)) {
        await trx
          .insertInto('read_watermarks')
          .values({ user_id: userId, stream, seq: head })
          .onConflict((oc) => oc.columns(['user_id', 'stream']).doUpdateSet({ seq: sql<number>`excluded.seq` }))
          .execute();
        await trx
          .deleteFrom('read_marks')
          .where('user_id', '=', userId)
          .where('notification_id', 'in', (eb) => eb.selectFrom('notifications').select('id').where('stream', '=', stream).where('seq', '<=', head))
          .execute();
      }
    });
  }
}
