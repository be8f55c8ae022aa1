import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '@herald/server';
import { freshPostgresSchema, postgresReachable, requireService } from './services.js';

/** One way of opening a fresh, empty store for a test file. */
export interface StoreTarget {
  name: 'sqlite' | 'postgres';
  /** A location for Store.open / DATABASE_URL, fresh per call. */
  location(): Promise<{ location: string; env: Record<string, string>; dispose(): Promise<void> }>;
}

const sqlite: StoreTarget = {
  name: 'sqlite',
  async location() {
    const dir = mkdtempSync(join(tmpdir(), 'herald-store-'));
    return { location: join(dir, 'herald.db'), env: { DATA_DIR: dir }, dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

const postgres: StoreTarget = {
  name: 'postgres',
  async location() {
    const schema = await freshPostgresSchema();
    return { location: schema.url, env: { DATABASE_URL: schema.url }, dispose: () => schema.drop() };
  },
};

const pgState = await postgresReachable();

/**
 * The stores every persistence test runs against: SQLite always, PostgreSQL when
 * reachable (required when CI=true).
 */
export const STORE_TARGETS: StoreTarget[] = [sqlite, ...(requireService('PostgreSQL', pgState.ok, pgState.why) ? [postgres] : [])];

export async function openStore(target: StoreTarget): Promise<{ store: Store; dispose(): Promise<void> }> {
  const { location, dispose } = await target.location();
  const store = await Store.open(location);
  return {
    store,
    async dispose() {
      await store.close();
      await dispose();
    },
  };
}
