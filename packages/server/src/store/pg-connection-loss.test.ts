import { afterAll, describe, expect, it } from 'vitest';
import { freshPostgresSchema, postgresReachable, requireService, sleep, TcpProxy, TEST_DATABASE_URL } from '@herald/testing';
import { Store } from './store.js';

const pgState = await postgresReachable();
const ready = requireService('PostgreSQL', pgState.ok, pgState.why);

describe.runIf(ready)('PostgreSQL connections lost under load', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>> | undefined;
  afterAll(async () => {
    await schema?.drop();
  });

  // Regression: pg-pool removes its error listener from a client while it is checked out, so a
  // connection reset between two queries of a transaction emitted an unhandled 'error' and
  // took the whole node down (found by the cluster fault test, PostgreSQL unreachable).
  it('fails the operations in flight, keeps the process alive, and works again once the database is back', async () => {
    schema = await freshPostgresSchema();
    const pgUrl = new URL(TEST_DATABASE_URL);
    const proxy = await new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432)).start();
    const url = new URL(schema.url);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    const store = await Store.open(url.toString());
    try {
      let stop = false;
      let failures = 0;
      const workers = Array.from({ length: 20 }, async () => {
        while (!stop) {
          await store.streams.append('broadcast', 'system_message', { message: 'x', level: 'info' }).catch(() => {
            failures++;
          });
          await store.streams.heads(['broadcast']).catch(() => {
            failures++;
          });
          if (failures > 0) await sleep(5);
        }
      });
      await sleep(300);
      await proxy.cutOff();
      await sleep(300);
      await proxy.restore();
      await sleep(300);
      stop = true;
      await Promise.all(workers);
      expect(failures).toBeGreaterThan(0);
      const before = (await store.streams.heads(['broadcast'])).broadcast.head;
      await store.streams.append('broadcast', 'system_message', { message: 'after', level: 'info' });
      expect((await store.streams.heads(['broadcast'])).broadcast.head).toBe(before + 1);
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
});
