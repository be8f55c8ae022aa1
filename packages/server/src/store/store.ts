import { sql, type Kysely } from 'kysely';
import { migrate, openHandle } from './db.js';
import { InboxStore } from './inbox.js';
import { RetentionStore } from './retention.js';
import type { Database, Dialect } from './schema.js';
import { StreamStore } from './streams.js';
import { UserStore } from './users.js';

/**
 * Herald's persistence, one repository per aggregate over one Kysely handle: `users`
 * (users and refresh tokens), `streams` (appends, reads, heads), `inbox` (pages, unread
 * counts, read state), `retention` (pruning). The dialect (SQLite or PostgreSQL) is chosen
 * once from the configuration, so every query is written once.
 */
export class Store {
  readonly #db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly users: UserStore;
  readonly streams: StreamStore;
  readonly inbox: InboxStore;
  readonly retention: RetentionStore;

  private constructor(db: Kysely<Database>, dialect: Dialect) {
    this.#db = db;
    this.dialect = dialect;
    this.users = new UserStore(db);
    this.streams = new StreamStore(db, dialect);
    this.inbox = new InboxStore(db, this.streams);
    this.retention = new RetentionStore(db);
  }

  /** Opens `postgres://…` with the pg driver, anything else as a SQLite file path, and migrates it. */
  static async open(location: string): Promise<Store> {
    const handle = openHandle(location);
    try {
      await migrate(handle);
    } catch (error) {
      await handle.db.destroy().catch(() => undefined);
      throw error;
    }
    return new Store(handle.db, handle.dialect);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }

  /** For tests: removes every row. */
  async truncateAll(): Promise<void> {
    for (const table of ['idempotent_requests', 'idempotency_keys', 'read_marks', 'read_watermarks', 'notifications', 'stream_heads', 'refresh_tokens', 'users'] as const) {
      await this.#db.deleteFrom(table).execute();
    }
  }
}
