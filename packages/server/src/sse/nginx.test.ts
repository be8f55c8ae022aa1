// SSE through the shipped deploy/nginx.conf to two nodes joined by Redis and PostgreSQL.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nginx, TEST_REDIS_URL, findNginx, freePort, freshPostgresSchema, postgresReachable, redisReachable, requireService, sleep, until } from '@herald/testing';
import { startHerald, type TestHerald } from '@herald/testing/herald';
import { openSse } from '@herald/testing/sse';

const nginxBin = findNginx();
const [pgState, redisState] = await Promise.all([postgresReachable(), redisReachable()]);
const ready =
  requireService('nginx', nginxBin !== undefined, 'no nginx binary (Debian: nginx-light; or set NGINX)') &&
  requireService('PostgreSQL', pgState.ok, pgState.why) &&
  requireService('Redis', redisState.ok, redisState.why);

describe.runIf(ready)('SSE on two nodes behind nginx', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let nodes: TestHerald[];
  let nginx: Nginx;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:`, TRUST_PROXY: 'true', WS_HEARTBEAT_INTERVAL_MS: '300' };
    nodes = [await startHerald({ ...env, NODE_ID: 'sse-a' }), await startHerald({ ...env, NODE_ID: 'sse-b' })];
    dir = mkdtempSync(join(tmpdir(), 'herald-sse-nginx-'));
    chmodSync(dir, 0o755);
    const listen = `127.0.0.1:${await freePort()}`;
    nginx = await new Nginx({ bin: nginxBin!, dir, listen, upstreams: nodes.map((n) => new URL(n.url).host) }).start();
    base = `http://${listen}`;
  });
  afterAll(async () => {
    await nginx?.stop();
    for (const node of nodes ?? []) await node.stop();
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('streams live (unbuffered) from both nodes, heartbeats pass, and Last-Event-ID resumes through the proxy', async () => {
    const user = await nodes[0].user('roamer');
    const url = `${base}/api/v1/sse?token=${user.token}`;
    const streams = [openSse(url), openSse(url)];
    const opened = await Promise.all(streams.map((s) => s.waitFor((m) => m.type === 'resumed').then(() => s.messages[0])));
    // least_conn: two long-lived streams land on the two nodes.
    expect(new Set(opened.map((m) => m.node_id))).toEqual(new Set(['sse-a', 'sse-b']));

    await nodes[0].notifications.notifySystemMessage('one', 'info', user.id);
    // Each event arrives on its own, not when a proxy buffer fills.
    await Promise.all(streams.map((s) => s.waitFor((m) => m.type === 'system_message', 3000)));
    await sleep(700);
    for (const s of streams) expect(s.comments.length).toBeGreaterThan(0);

    const lastId = streams[0].lastEventId()!;
    streams.forEach((s) => s.close());
    await nodes[1].notifications.notifySystemMessage('two', 'info', user.id);
    await nodes[0].notifications.notifySystemMessage('three', 'info', 'all');
    const resumed = openSse(url, { 'last-event-id': lastId });
    await resumed.waitFor((m) => m.type === 'resumed');
    expect(resumed.of('system_message').map((m) => m.message)).toEqual(['two', 'three']);
    resumed.close();
    await until(() => nodes.every((n) => n.manager.countOf(user.id) === 0), 5000, 'streams closed on both nodes');
  });
});
