import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, sleep, startHerald, until, type TestHerald, type TestSocket } from '@herald/testing/herald';
import { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '@herald/testing';

const [pgState, redisState] = await Promise.all([postgresReachable(), redisReachable()]);
const ready = requireService('PostgreSQL', pgState.ok, pgState.why) && requireService('Redis', redisState.ok, redisState.why);

describe.runIf(ready)('two nodes over Redis and PostgreSQL', () => {
  const prefix = `t${randomBytes(4).toString('hex')}:`;
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let a: TestHerald;
  let b: TestHerald;
  let admin: Awaited<ReturnType<TestHerald['user']>>;
  let alice: Awaited<ReturnType<TestHerald['user']>>;
  let bob: Awaited<ReturnType<TestHerald['user']>>;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix };
    a = await startHerald({ ...env, NODE_ID: 'node-a' });
    b = await startHerald({ ...env, NODE_ID: 'node-b' });
    admin = await a.user('admin', { admin: true });
    alice = await a.user('alice');
    bob = await a.user('bob');
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await schema?.drop();
  });

  async function connect(node: TestHerald, path: string, token: string): Promise<TestSocket> {
    const socket = openSocket(`${node.wsUrl}${path}?token=${token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    return socket;
  }

  it('delivers user, admin and broadcast messages across nodes and keeps users apart', async () => {
    const aliceOnB = await connect(b, '/api/v1/ws', alice.token);
    const bobOnA = await connect(a, '/api/v1/ws', bob.token);
    const adminOnB = await connect(b, '/api/v1/ws/admin', admin.token);
    await a.notifications.notifySystemMessage('to alice', 'info', alice.id);
    await a.notifications.notifySystemMessage('to admins', 'warning', 'admin');
    await a.notifications.notifySystemMessage('to all', 'info', 'all');
    await a.notifications.notifyTranscodeProgress(7, 'processing', 50, 'half', { job_id: 'j7' });
    expect(await aliceOnB.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'to alice' });
    expect(await aliceOnB.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'to all' });
    expect(await adminOnB.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'to admins' });
    expect(await adminOnB.waitFor((m) => m.type === 'transcode_progress')).toMatchObject({ video_id: 7, progress: 50 });
    expect(await bobOnA.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'to all' });
    await sleep(100);
    expect(bobOnA.of('system_message').map((m) => m.message)).toEqual(['to all']);
    expect(aliceOnB.of('transcode_progress')).toHaveLength(0);
    [aliceOnB, bobOnA, adminOnB].forEach((s) => s.close());
  });

  it('sums statistics over the nodes and breaks them down by node', async () => {
    const sockets = [await connect(a, '/api/v1/ws', alice.token), await connect(b, '/api/v1/ws', bob.token), await connect(b, '/api/v1/ws/admin', admin.token)];
    await sleep(2100); // node reports refresh every 2 s; peers' figures are cached for 1 s
    const res = await (await fetch(`${a.url}/api/v1/ws/stats?by_node=true`)).json();
    expect(res).toMatchObject({ total_users: 2, total_user_connections: 2, total_admin_connections: 1, total_connections: 3 });
    expect(res.nodes['node-a']).toMatchObject({ total_connections: 1 });
    expect(res.nodes['node-b']).toMatchObject({ total_connections: 2 });
    sockets.forEach((s) => s.close());
  });

  it("delivers JSON published by an outside producer on the 'notifications' channel to the admins, once", async () => {
    const adminOnA = await connect(a, '/api/v1/ws/admin', admin.token);
    const adminOnB = await connect(b, '/api/v1/ws/admin', admin.token);
    const producer = new Redis(TEST_REDIS_URL);
    try {
      await producer.publish(`${prefix}notifications`, '{not json');
      await producer.publish(`${prefix}notifications`, JSON.stringify({ type: 'system_message', message: 'from celery', level: 'info' }));
      for (const socket of [adminOnA, adminOnB]) {
        expect(await socket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'from celery', stream: 'admins' });
      }
      await sleep(200);
      expect(adminOnA.of('system_message')).toHaveLength(1);
      const inbox = await (await fetch(`${a.url}/api/v1/notifications?limit=100`, { headers: { authorization: `Bearer ${admin.token}` } })).json();
      expect(inbox.items.filter((i: { message: string }) => i.message === 'from celery')).toHaveLength(1);
    } finally {
      producer.disconnect();
      adminOnA.close();
      adminOnB.close();
    }
  });

  it("delivers the specification's Redis example verbatim to the admins on both nodes exactly once, and a user target to that user", async () => {
    const adminOnA = await connect(a, '/api/v1/ws/admin', admin.token);
    const adminOnB = await connect(b, '/api/v1/ws/admin', admin.token);
    const aliceOnB = await connect(b, '/api/v1/ws', alice.token);
    const producer = new Redis(TEST_REDIS_URL);
    try {
      // redis_client.publish('notifications', json.dumps({"type": "transcode_progress", "video_id": 123, "progress": 45}))
      await producer.publish(`${prefix}notifications`, '{"type": "transcode_progress", "video_id": 123, "progress": 45}');
      await producer.publish(`${prefix}notifications`, JSON.stringify({ type: 'order.shipped', target: String(alice.id), data: { order: 42 } }));
      for (const socket of [adminOnA, adminOnB]) {
        expect(await socket.waitFor((m) => m.type === 'transcode_progress' && m.video_id === 123)).toMatchObject({ progress: 45, status: 'processing', message: '' });
      }
      expect(await aliceOnB.waitFor((m) => m.type === 'order.shipped')).toMatchObject({ data: { order: 42 }, stream: `user:${alice.id}` });
      await sleep(300);
      for (const socket of [adminOnA, adminOnB]) expect(socket.of('transcode_progress').filter((m) => m.video_id === 123)).toHaveLength(1);
      expect(aliceOnB.of('order.shipped')).toHaveLength(1);
      expect(adminOnA.of('order.shipped')).toHaveLength(0);
    } finally {
      producer.disconnect();
      [adminOnA, adminOnB, aliceOnB].forEach((s) => s.close());
    }
  });

  it('logs and counts what it cannot deliver from the Redis channel, by reason, and keeps serving', async () => {
    const producer = new Redis(TEST_REDIS_URL);
    const counted = async () => {
      const text = [await (await fetch(`${a.url}/metrics`)).text(), await (await fetch(`${b.url}/metrics`)).text()].join('\n');
      const sum = (reason: string) =>
        [...text.matchAll(new RegExp(`^herald_ingress_rejected_total\\{reason="${reason}"\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
      return { not_json: sum('not_json'), too_big: sum('too_big'), invalid: sum('invalid'), unknown_user: sum('unknown_user') };
    };
    try {
      const before = await counted();
      await producer.publish(`${prefix}notifications`, 'not json at all');
      await producer.publish(`${prefix}notifications`, JSON.stringify({ type: 'system_message', message: 'x'.repeat(70_000) }));
      await producer.publish(`${prefix}notifications`, JSON.stringify({ type: 'system_message', level: 'loud' }));
      await producer.publish(`${prefix}notifications`, JSON.stringify({ type: 'system_message', message: 'to nobody', target: 999_999 }));
      await until(async () => (await counted()).unknown_user > before.unknown_user);
      const after = await counted();
      // Every node hears the payload: refused by both when it does not parse, by the one that claimed it otherwise.
      expect(after.not_json - before.not_json).toBe(2);
      expect(after.too_big - before.too_big).toBe(2);
      expect(after.invalid - before.invalid).toBe(2);
      expect(after.unknown_user - before.unknown_user).toBe(1);
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
    } finally {
      producer.disconnect();
    }
  });

  it('reports a healthy pub/sub path in /readyz', async () => {
    const res = await fetch(`${b.url}/readyz`);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: { broker: { ok: true, detail: 'redis pub/sub round trip ok' }, store: { ok: true, detail: 'postgres' } } });
  });

  it('resumes on the other node after a node goes away', async () => {
    const first = await connect(a, '/api/v1/ws/admin', admin.token);
    await b.notifications.notifySystemMessage('m1', 'info', 'admin');
    const m1 = await first.waitFor((m) => m.type === 'system_message' && m.message === 'm1');
    first.ws.terminate();
    await b.notifications.notifySystemMessage('m2', 'info', 'admin');
    await a.notifications.notifySystemMessage('m3', 'info', 'admin');
    const second = openSocket(`${b.wsUrl}/api/v1/ws/admin?token=${admin.token}&since=admins@${m1.offset}`);
    await until(() => second.of('system_message').length >= 2);
    expect(second.of('system_message').map((m) => m.message)).toEqual(['m2', 'm3']);
    second.close();
  });
});
