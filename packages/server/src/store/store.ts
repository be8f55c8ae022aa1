import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { StreamPosition } from '@herald/protocol';
import { HeraldMigrations } from './migrations.js';
import type { Database, Dialect } from './schema.js';

export interface User {
  id: number;
  username: string;
  is_admin: boolean;
  created_at: string;
}

export interface UserWithHash extends User {
  password_hash: string;
}

/** A persisted notification as stored: its wire fields are in `payload`. */
export interface StoredNotification {
  id: number;
  stream: string;
  seq: number;
  type: string;
  payload: Record<string, unknown>;
  created_at: number;
}

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

export type RefreshUse =
  | { ok: true; userId: number; family: string }
  | { ok: false; reason: 'unknown' | 'expired' | 'reused' };

const toUser = (row: { id: number; username: string; is_admin: number; created_at: number }): User => ({
  id: Number(row.id),
  username: row.username,
  is_admin: Number(row.is_admin) === 1,
  created_at: new Date(Number(row.created_at)).toISOString(),
});

interface NotificationRow {
  id: number;
  stream: string;
  seq: number;
  type: string;
  payload: string;
  created_at: number;
}

const toStored = (row: NotificationRow): StoredNotification => ({
  id: Number(row.id),
  stream: row.stream,
  seq: Number(row.seq),
  type: row.type,
  payload: JSON.parse(row.payload) as Record<string, unknown>,
  created_at: Number(row.created_at),
});

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running
 * Herald's small queries. Statements are reused per SQL text (the driver runs them
 * synchronously, so one statement is never used by two queries at once).
 */
function withStatementCache(database: SQLite.Database): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      statement = prepare(source);
      cache.set(source, statement);
    }
    return statement;
  }) as typeof database.prepare;
  return database;
}

// Postgres returns int8 as strings; every bigint here is an id, a sequence or epoch ms.
pg.types.setTypeParser(20, (value) => Number(value));

/**
 * Herald's persistence: users, refresh tokens, notification streams, read state.
 * One implementation over Kysely; the dialect (SQLite or PostgreSQL) is chosen once from
 * the configuration, so every query is written once.
 */
export class Store {
  readonly #db: Kysely<Database>;
  readonly dialect: Dialect;

  private constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.dialect = dialect;
  }

  /** Opens `postgres://…` with the pg driver, anything else as a SQLite file path. */
  static async open(location: string): Promise<Store> {
    const store = location.startsWith('postgres') ? Store.#postgres(location) : Store.#sqlite(location);
    await store.migrate();
    return store;
  }

  static #sqlite(file: string): Store {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const database = new SQLite(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('foreign_keys = ON');
    database.pragma('busy_timeout = 5000');
    return new Store(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), 'sqlite');
  }

  static #postgres(url: string): Store {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
    pool.on('error', () => {
      /* idle client errors surface on the next query; a listener keeps the process alive */
    });
    // pg-pool listens for errors only on idle clients: a checked-out client whose connection
    // breaks between two queries (inside a transaction) would emit an unhandled 'error' and
    // crash the node. The failure reaches the caller through the query; the broken client is
    // dropped by the pool on release.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    return new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }

  async migrate(): Promise<void> {
    // Kysely looks for its migration tables in every schema unless told which one: a database
    // holding another Herald schema (tests, several deployments) would skip creating them in ours.
    const migrationTableSchema =
      this.dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(this.#db)).rows[0]?.schema : undefined;
    const migrator = new Migrator({ db: this.#db, provider: new HeraldMigrations(this.dialect), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error;
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  // ---- users ----

  async createUser(username: string, passwordHash: string, isAdmin: boolean): Promise<User> {
    const row = await this.#db
      .insertInto('users')
      .values({ username, password_hash: passwordHash, is_admin: isAdmin ? 1 : 0, created_at: Date.now() })
      .returning(['id', 'username', 'is_admin', 'created_at'])
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async findUserById(id: number): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').select(['id', 'username', 'is_admin', 'created_at']).where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserByUsername(username: string): Promise<UserWithHash | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && { ...toUser(row), password_hash: row.password_hash };
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').select(['id', 'username', 'is_admin', 'created_at']).orderBy('id').execute();
    return rows.map(toUser);
  }

  async setAdmin(id: number, isAdmin: boolean): Promise<User | undefined> {
    await this.#db.updateTable('users').set({ is_admin: isAdmin ? 1 : 0 }).where('id', '=', id).execute();
    return this.findUserById(id);
  }

  async deleteUser(id: number): Promise<boolean> {
    const result = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async countAdmins(): Promise<number> {
    const row = await this.#db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('is_admin', '=', 1).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  // ---- refresh tokens ----

  async saveRefreshToken(jti: string, userId: number, family: string, expiresAt: number): Promise<void> {
    await this.#db
      .insertInto('refresh_tokens')
      .values({ jti, user_id: userId, family, expires_at: expiresAt, used_at: null, created_at: Date.now() })
      .execute();
  }

  /**
   * Consumes a refresh token once. A second use of the same token is treated as theft:
   * the whole token family is revoked.
   */
  async useRefreshToken(jti: string): Promise<RefreshUse> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('refresh_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
      if (!row) return { ok: false, reason: 'unknown' } as const;
      if (row.used_at !== null) {
        await trx.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('family', '=', row.family).where('used_at', 'is', null).execute();
        return { ok: false, reason: 'reused' } as const;
      }
      if (Number(row.expires_at) <= Date.now()) return { ok: false, reason: 'expired' } as const;
      const updated = await trx.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('jti', '=', jti).where('used_at', 'is', null).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return { ok: false, reason: 'reused' } as const;
      return { ok: true, userId: Number(row.user_id), family: row.family } as const;
    });
  }

  async revokeUserRefreshTokens(userId: number): Promise<void> {
    await this.#db.updateTable('refresh_tokens').set({ used_at: Date.now() }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
  }

  // ---- notification streams ----

  /**
   * Appends a notification to its stream and returns it with its id and the next offset.
   * Offsets are allocated in the same transaction as the insert, so they are strictly
   * increasing and gapless per stream, also with concurrent writers on several nodes.
   */
  async append(stream: string, type: string, payload: Record<string, unknown>, createdAt = Date.now()): Promise<StoredNotification> {
    return this.#db.transaction().execute(async (trx) => {
      const seq = await this.#nextSeq(trx, stream);
      const body = JSON.stringify(payload);
      const row = await trx
        .insertInto('notifications')
        .values({ stream, seq, type, payload: body, level: typeof payload.level === 'string' ? payload.level : null, created_at: createdAt })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: Number(row.id), stream, seq, type, payload, created_at: createdAt };
    });
  }

  async #nextSeq(trx: Transaction<Database>, stream: string): Promise<number> {
    const head = await trx
      .insertInto('stream_heads')
      .values({ stream, last_seq: 1, pruned_seq: 0 })
      .onConflict((oc) => oc.column('stream').doUpdateSet({ last_seq: sql<number>`stream_heads.last_seq + 1` }))
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return Number(head.last_seq);
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
        const seq = await this.#nextSeq(trx, stream);
        const createdAt = Date.now();
        const row = await trx
          .insertInto('notifications')
          .values({ stream, seq, type, payload: JSON.stringify(payload), level: typeof payload.level === 'string' ? payload.level : null, created_at: createdAt })
          .returning('id')
          .executeTakeFirstOrThrow();
        await trx.insertInto('idempotency_keys').values({ key, notification_id: Number(row.id), created_at: createdAt }).execute();
        return { id: Number(row.id), stream, seq, type, payload, created_at: createdAt };
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

  // The three queries below run on every connect and replay. They are written with Kysely's
  // `sql` template rather than its query builder: building and compiling the unread count
  // costs ~40 µs of CPU per call, several times what SQLite needs to answer it.

  /** Messages of one stream with offsets in (after, upTo], oldest first. */
  async readStream(stream: string, after: number, limit: number, upTo?: number): Promise<StoredNotification[]> {
    const upper = upTo === undefined ? sql`` : sql` and seq <= ${upTo}`;
    const { rows } = await sql<NotificationRow>`select id, stream, seq, type, payload, created_at from notifications
      where stream = ${stream} and seq > ${after}${upper} order by seq limit ${limit}`.execute(this.#db);
    return rows.map(toStored);
  }

  /** Head offset and highest pruned offset of each stream (0 for streams never written). */
  async heads(streams: string[]): Promise<Record<string, { head: number; pruned: number }>> {
    const result: Record<string, { head: number; pruned: number }> = {};
    for (const stream of streams) result[stream] = { head: 0, pruned: 0 };
    if (streams.length === 0) return result;
    const { rows } = await sql<{ stream: string; last_seq: number; pruned_seq: number }>`select stream, last_seq, pruned_seq from stream_heads
      where stream in (${sql.join(streams)})`.execute(this.#db);
    for (const row of rows) result[row.stream] = { head: Number(row.last_seq), pruned: Number(row.pruned_seq) };
    return result;
  }

  async getNotification(id: number): Promise<StoredNotification | undefined> {
    const row = await this.#db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toStored(row);
  }

  // ---- inbox and read state ----

  /** A page of a user's inbox over the given streams, newest first, with read flags. */
  async inbox(userId: number, query: InboxQuery): Promise<InboxItem[]> {
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
    return this.unreadAt(userId, streams, await this.heads(streams));
  }

  /** Unread count up to heads the caller has already read (saves a query on connect). */
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
    const heads = await this.heads(streams);
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

  // ---- retention ----

  /**
   * Deletes notifications older than `maxAgeMs` and beyond `maxPerStream` per stream, and
   * records the highest pruned offset so resumes from before it get `resync_required`.
   */
  async prune(maxAgeMs: number, maxPerStream: number, now = Date.now()): Promise<number> {
    await this.#db.deleteFrom('idempotency_keys').where('created_at', '<', now - maxAgeMs).execute();
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

  /** For tests: removes every row. */
  async truncateAll(): Promise<void> {
    for (const table of ['idempotency_keys', 'read_marks', 'read_watermarks', 'notifications', 'stream_heads', 'refresh_tokens', 'users'] as const) {
      await this.#db.deleteFrom(table).execute();
    }
  }
}
