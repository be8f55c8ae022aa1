import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgresSchema, postgresReachable, requireService } from '@herald/testing';
import { Store } from './store.js';

const pgState = await postgresReachable();
const ready = requireService('PostgreSQL', pgState.ok, pgState.why);

describe.runIf(ready)('migrations with several Herald schemas in one PostgreSQL database', () => {
  const schemas: Array<Awaited<ReturnType<typeof freshPostgresSchema>>> = [];
  afterAll(async () => {
    for (const schema of schemas) await schema.drop();
  });

  // Regression: Kysely found the migration tables of another schema and skipped creating its
  // own ("relation kysely_migration_lock does not exist"), so parallel test files and
  // deployments sharing a database failed at random.
  it('migrates a fresh schema while another schema already holds migration tables', async () => {
    const first = await freshPostgresSchema();
    schemas.push(first);
    const a = await Store.open(first.url);
    const second = await freshPostgresSchema();
    schemas.push(second);
    const b = await Store.open(second.url);
    try {
      await b.ping();
      const appended = await b.streams.append('broadcast', 'system_message', { message: 'x', level: 'info' });
      expect(appended.seq).toBe(1);
      expect(await a.streams.readStream('broadcast', 0, 10)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
