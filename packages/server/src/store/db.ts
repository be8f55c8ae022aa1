import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { HeraldMigrations } from './migrations.js';
import type { Database, Dialect } from './schema.js';

/** The one Kysely handle every repository of a store shares. */
export interface Handle {
  db: Kysely<Database>;
  dialect: Dialect;
}

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

/** Opens `postgres://…` with the pg driver, anything else as a SQLite file path (not migrated yet). */
export function openHandle(location: string): Handle {
  return location.startsWith('postgres') ? postgres(location) : sqlite(location);
}

/**
 * The database holds password hashes and notification contents: its directory is created
 * 0700 and the file is kept 0600 (SQLite gives its -wal and -shm files the database file's
 * mode). An existing directory is left as it is: DATA_DIR may be one the operator shares.
 */
function ownerOnly(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

function sqlite(file: string): Handle {
  if (file !== ':memory:') ownerOnly(file);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), dialect: 'sqlite' };
}

function postgres(url: string): Handle {
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
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres' };
}

export async function migrate({ db, dialect }: Handle): Promise<void> {
  // Kysely looks for its migration tables in every schema unless told which one: a database
  // holding another Herald schema (tests, several deployments) would skip creating them in ours.
  const migrationTableSchema =
    dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({ db, provider: new HeraldMigrations(dialect), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
