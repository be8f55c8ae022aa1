import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, until, type TestHerald, type TestSocket, startHerald } from '@herald/testing/herald';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_REDIS_URL, ensureBuilt, freePort, freshPostgresSchema, postgresReachable, redisReachable, requireService, spawnHerald } from '@herald/testing';

const [pgState, redisState] = await Promise.all([postgresReachable(), redisReachable()]);
const ready = requireService('PostgreSQL', pgState.ok, pgState.why) && requireService('Redis', redisState.ok, redisState.why);

describe.runIf(ready)('one user on two nodes over Redis', () => {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let a: TestHerald;
  let b: TestHerald | undefined;
  let redis: Redis;
  let env: Record<string, string>;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, WS_MAX_CONNECTIONS_PER_USER: '3' };
    a = await startHerald({ ...env, NODE_ID: 'node-a' });
    b = await startHerald({ ...env, NODE_ID: 'node-b' });
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    redis?.disconnect();
    await schema?.drop();
  });

  async function connect(node: TestHerald, token: string): Promise<TestSocket> {
    const socket = openSocket(`${node.wsUrl}/api/v1/ws?token=${token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    return socket;
  }

  const statsAt = async (node: TestHerald, _token?: string) => (await (await fetch(`${node.url}/api/v1/ws/stats`)).json()) as Record<string, number>;

  it('counts the user once in total_users, twice in total_connections, and limits their connections over the cluster', async () => {
    const admin = await a.user('presence-admin', { admin: true });
    const carol = await a.user('carol');
    const onA = await connect(a, carol.token);
    const onB = await connect(b!, carol.token);
    for (const node of [a, b!]) {
      await until(async () => (await statsAt(node, admin.token)).total_connections === 2, 5_000, 'both connections counted');
      expect(await statsAt(node, admin.token)).toMatchObject({ total_users: 1, total_user_connections: 2, total_connections: 2 });
    }
    onA.ws.send(JSON.stringify({ type: 'get_stats' }));
    expect((await onA.waitFor((m) => m.type === 'stats')).connection_stats).toMatchObject({ total_users: 1, total_connections: 2 });

    // The limit is 3 over the cluster: a third connection is let in, a fourth (on either node) refused.
    const third = await connect(b!, carol.token);
    await until(async () => (await statsAt(a, admin.token)).total_connections === 3, 5_000, 'the third connection counted on node a');
    const fourth = openSocket(`${a.wsUrl}/api/v1/ws?token=${carol.token}`);
    expect(await fourth.closed).toEqual({ code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too many connections for this user' });

    // Node b goes away: its two connections stop counting, and carol may connect again on a.
    await b!.stop();
    b = undefined;
    await until(async () => (await statsAt(a, admin.token)).total_connections === 1, 5_000, 'node b forgotten');
    const again = await connect(a, carol.token);
    for (const s of [onA, onB, third, again]) s.close();
  });

  it('does not count a crashed node whose report expired', async () => {
    const dave = await a.user('dave');
    // What a node that died without a word leaves behind: a report whose time ran out.
    const stale = { stats: { total_users: 1, total_user_connections: 3, total_admin_connections: 0, total_connections: 3 }, users: { [dave.id]: 3 }, readers: [dave.id], expires_at: Date.now() - 1 };
    await redis.hset(`${prefix}herald:nodes`, 'node-crashed', JSON.stringify(stale));
    const socket = await connect(a, dave.token);
    await until(async () => (await statsAt(a)).total_connections === 1, 5_000, 'only dave counted');
    expect(await statsAt(a)).toMatchObject({ total_users: 1, total_connections: 1 });
    socket.close();
  });

  it('releases the connections of a node that crashed once its report expires', async () => {
    ensureBuilt();
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-crash-'));
    const crashing = await spawnHerald({
      port: await freePort(),
      env: { ...process.env, ...env, DATA_DIR: dataDir, NODE_ID: 'node-crash', LOG_LEVEL: 'error', JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789' },
    });
    try {
      const erin = await a.user('erin');
      const wsUrl = crashing.url.replace(/^http/, 'ws');
      const held = [await connect(a, erin.token)];
      for (let i = 0; i < 2; i++) {
        const socket = openSocket(`${wsUrl}/api/v1/ws?token=${erin.token}`);
        await socket.waitFor((m) => m.type === 'resumed');
        held.push(socket);
      }
      await until(async () => (await statsAt(a)).total_connections >= 3, 5_000, 'the crashing node reported');
      const refused = openSocket(`${a.wsUrl}/api/v1/ws?token=${erin.token}`);
      expect((await refused.closed).code).toBe(CloseCode.TOO_MANY_CONNECTIONS);

      await crashing.stop('SIGKILL');
      const died = Date.now();
      // Its report counts for 6 s after it was written (at most 2 s before the crash).
      await until(
        async () => {
          const attempt = openSocket(`${a.wsUrl}/api/v1/ws?token=${erin.token}`);
          const outcome = await Promise.race([attempt.waitFor((m) => m.type === 'resumed', 5_000).then(() => true), attempt.closed.then(() => false)]);
          attempt.close();
          return outcome;
        },
        10_000,
        'a connection let in after the crash',
      );
      expect(Date.now() - died).toBeLessThan(8_000);
      for (const socket of held) socket.close();
    } finally {
      if (crashing.running) await crashing.stop('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
