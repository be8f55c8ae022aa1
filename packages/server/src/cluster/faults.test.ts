// Faults in a real cluster: nginx (deploy/nginx.conf) in front of three `herald serve`
// processes, a private redis-server behind a cuttable proxy, PostgreSQL behind a cuttable
// proxy. A producer posts notifications through nginx every 20 ms while SDK clients record
// what they deliver; every fault must end with nothing lost, nothing doubled, and the
// cluster-wide statistics right.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, findNginx, freePort, freshPostgresSchema, postgresReachable, RedisServer, requireService, sleep, startCluster, TcpProxy, TEST_DATABASE_URL, until, type Cluster, type ClusterNode } from '@herald/testing';
import { Producer, RecordingClient, signInUsers } from '@herald/testing/faults';

/** How long Redis stays unreachable or silent: short in CI; `HERALD_REDIS_OUTAGE_MS=30000` for the long version. */
const REDIS_OUTAGE_MS = Number(process.env.HERALD_REDIS_OUTAGE_MS ?? 1500);

const pgState = await postgresReachable();
const nginxBin = findNginx();
const ready =
  requireService('PostgreSQL', pgState.ok, pgState.why) &&
  requireService('redis-server', commandExists('redis-server') && commandExists('redis-cli'), 'redis-server/redis-cli not on PATH (Debian: redis-server)') &&
  requireService('nginx', nginxBin !== undefined, 'no nginx binary (Debian: nginx-light; or set NGINX)');

const SERVICE_KEY = `svc-${randomBytes(12).toString('hex')}`;
const ADMIN_PASSWORD = `admin-${randomBytes(8).toString('hex')}`;

describe.runIf(ready)('cluster faults through nginx (3 nodes, Redis, PostgreSQL)', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let pgProxy: TcpProxy;
  let redis: RedisServer;
  let redisProxy: TcpProxy;
  let cluster: Cluster;
  let producer: Producer;
  const clients: RecordingClient[] = [];
  const figures: Array<Record<string, number | string>> = [];
  let aliceId = 0;

  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const pgUrl = new URL(TEST_DATABASE_URL);
    pgProxy = await new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432)).start();
    const nodeDbUrl = new URL(schema.url);
    nodeDbUrl.hostname = '127.0.0.1';
    nodeDbUrl.port = String(pgProxy.port);
    redis = await new RedisServer(await freePort()).start();
    redisProxy = await new TcpProxy('127.0.0.1', redis.port).start();
    cluster = await startCluster({
      nodes: 3,
      port: 0,
      redisUrl: `redis://127.0.0.1:${redisProxy.port}`,
      databaseUrl: nodeDbUrl.toString(),
      jwtSecret: randomBytes(32).toString('hex'),
      nginxOptions: { failTimeout: '2s' },
      keepDir: process.env.HERALD_CLUSTER_KEEP === '1', // keep node logs and nginx.conf for a post-mortem
      env: {
        LOG_LEVEL: process.env.HERALD_CLUSTER_LOG_LEVEL ?? 'error',
        HERALD_SERVICE_KEY: SERVICE_KEY,
        HERALD_ADMIN_PASSWORD: ADMIN_PASSWORD,
        LOGIN_ATTEMPTS_PER_MINUTE: '1000',
        WS_HEARTBEAT_INTERVAL_MS: '5000',
        REDIS_PREFIX: `faults${randomBytes(3).toString('hex')}:`,
      },
    });
    if (process.env.HERALD_CLUSTER_KEEP === '1') console.log(`cluster directory: ${cluster.dir}`);

    const { adminToken, aliceId: alice, aliceToken, bobToken } = await signInUsers(cluster.url, ADMIN_PASSWORD);
    aliceId = alice;
    for (let i = 0; i < 3; i++) clients.push(new RecordingClient(`admin-${i}`, cluster.wsUrl, adminToken, true));
    for (let i = 0; i < 3; i++) clients.push(new RecordingClient(`alice-${i}`, cluster.wsUrl, aliceToken, false));
    for (let i = 0; i < 2; i++) clients.push(new RecordingClient(`bob-${i}`, cluster.wsUrl, bobToken, false));
    await until(() => clients.every((c) => c.open), 10_000, 'every client connected');
    producer = new Producer(cluster.url, SERVICE_KEY, ['admin', 'all', aliceId]);
  }, 90_000);

  afterAll(async () => {
    await producer?.stop();
    for (const c of clients) c.close();
    await cluster?.stop();
    await redisProxy?.stop();
    await redis?.stop('SIGKILL');
    await pgProxy?.stop();
    await schema?.drop().catch(() => undefined);
    if (figures.length > 0) {
      const total = (key: string) => figures.reduce((sum, f) => sum + Number(f[key] ?? 0), 0);
      console.log(
        `cluster faults summary: faults=${figures.length} sent=${total('sent')} acked=${total('acked')} delivered=${total('delivered')} ` +
          `lost=${total('lost')} duplicated=${total('duplicated')} max_recovery_ms=${Math.max(...figures.map((f) => Number(f.recovery_ms)))}`,
      );
    }
  }, 60_000);

  const missingNow = (olderThan = Infinity) => clients.flatMap((c) => c.missing(producer.acked.values(), olderThan).map((id) => `${c.name}:${id}`));

  async function nodeStats(node: ClusterNode): Promise<Record<string, { total_connections: number }>> {
    const res = await fetch(`${node.url}/api/v1/ws/stats?by_node=true`);
    return ((await res.json()) as { nodes: Record<string, { total_connections: number }> }).nodes;
  }

  /** The running node holding the most client connections. */
  async function busiestNode(): Promise<ClusterNode> {
    const live = cluster.nodes.filter((n) => n.running);
    await sleep(2100); // node figures are reported every 2 s
    const byNode = await nodeStats(live[0]);
    return live.reduce((best, n) => ((byNode[n.nodeId]?.total_connections ?? 0) > (byNode[best.nodeId]?.total_connections ?? 0) ? n : best));
  }

  /**
   * Stops the producer while Redis is still away (some notifications were persisted but never
   * published), brings Redis back and waits, with no new traffic that could reveal a gap,
   * until every client has them: only the broker's recovery (catch-up from the store) can
   * deliver them.
   */
  async function quietRecovery(name: string, bringBack: () => Promise<unknown>): Promise<void> {
    await producer.stop();
    const pending = missingNow().length;
    await bringBack();
    const ms = await until(() => missingNow().length === 0, 10_000, () => `catch-up after ${name} without new traffic: missing ${missingNow().slice(0, 20).join(', ')}`);
    console.log(`cluster fault: ${name}: ${pending} deliveries pending when Redis came back, all caught up ${ms} ms later`);
  }

  /**
   * Runs the producer, injects a fault, waits until every client is open and has every
   * notification acknowledged more than 300 ms earlier (the recovery time), stops the
   * producer, then checks lost, duplicated and the cluster-wide statistics.
   */
  async function phase(name: string, inject: () => Promise<void>, afterRecovery: () => Promise<Record<string, number>> = async () => ({})): Promise<Record<string, number | string>> {
    const ackedBefore = producer.acked.size;
    const sentBefore = producer.sent;
    const deliveredBefore = clients.reduce((s, c) => s + c.deliveries, 0);
    const statusesBefore = new Map(producer.statuses);
    producer.start(20);
    await sleep(800);
    const faultAt = Date.now();
    await inject();
    producer.start(20); // the fault may have paused it
    await until(() => clients.every((c) => c.open) && missingNow(Date.now() - 300).length === 0, 30_000, () => `recovery after ${name}: missing ${missingNow(Date.now() - 300).slice(0, 20).join(', ')}`);
    const recoveryMs = Date.now() - faultAt;
    const extra = await afterRecovery();
    await sleep(500);
    await producer.stop();
    await until(() => missingNow().length === 0, 15_000, () => `every acknowledged notification after ${name}: missing ${missingNow().slice(0, 20).join(', ')}`).catch(() => undefined);
    const lost = missingNow().length;
    const duplicated = clients.reduce((s, c) => s + c.duplicates(), 0);
    // Statistics right afterwards: the cluster-wide sums equal what the clients hold.
    const expected = { total_connections: clients.length, total_admin_connections: 3, total_user_connections: clients.length - 3 };
    let stats: Record<string, number> = {};
    const statsSettleMs = await until(
      async () => {
        stats = (await (await fetch(`${cluster.url}/api/v1/ws/stats`)).json()) as Record<string, number>;
        return Object.entries(expected).every(([k, v]) => stats[k] === v);
      },
      15_000,
      () => `statistics ${JSON.stringify(expected)} after ${name}; last ${JSON.stringify(stats)}`,
    );
    const f = {
      fault: name,
      sent: producer.sent - sentBefore,
      acked: producer.acked.size - ackedBefore,
      delivered: clients.reduce((s, c) => s + c.deliveries, 0) - deliveredBefore,
      lost,
      duplicated,
      unacknowledged_delivered: clients.reduce((s, c) => s + c.unacknowledged(producer.acked), 0),
      recovery_ms: recoveryMs,
      stats_settle_ms: statsSettleMs,
      ...extra,
      statuses: JSON.stringify(producer.since(statusesBefore)),
    };
    figures.push(f);
    console.log(`cluster fault: ${Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(clients.reduce((s, c) => s + c.outOfOrder + c.foreign, 0)).toBe(0);
    // A publish either succeeds (202) or fails in a way a producer can act on; never a 500.
    expect(Object.keys(producer.since(statusesBefore)).filter((s) => !['202', '502', '503'].includes(s)), JSON.stringify(Object.fromEntries(producer.samples))).toEqual([]);
    return f;
  }

  it('SIGTERM of a node: its clients get 1001 with a reconnect hint and resume through nginx on the others', async () => {
    const victim = await busiestNode();
    const since = Date.now();
    await phase(
      'sigterm',
      async () => {
        const exit = await victim.stop('SIGTERM');
        expect(exit.code).toBe(0);
        const hinted = clients.flatMap((c) => c.disconnects.filter((d) => d.at >= since && d.code === 1001 && /reconnect_after_ms=\d+/.test(d.reason)));
        expect(hinted.length).toBeGreaterThan(0);
      },
      async () => {
        // Recovered on the two other nodes; bring the third back for the next faults.
        const started = Date.now();
        await victim.restart();
        return { restart_ms: Date.now() - started };
      },
    );
  }, 60_000);

  it('SIGKILL of a node: its clients reconnect through nginx and resume; the dead node drops out of the statistics', async () => {
    const victim = await busiestNode();
    const since = Date.now();
    const deadId = victim.nodeId;
    let killedAt = 0;
    await phase(
      'sigkill',
      async () => {
        killedAt = Date.now();
        await victim.stop('SIGKILL');
        await until(() => clients.some((c) => c.disconnects.some((d) => d.at >= since)), 5000, 'a client noticing the dead node');
      },
      async () => {
        // The dead node cannot remove its figures: they must expire from the sums by themselves.
        const live = cluster.nodes.find((n) => n.running)!;
        await until(async () => !(deadId in (await nodeStats(live))), 15_000, `${deadId} dropping out of the statistics`);
        const droppedOutMs = Date.now() - killedAt;
        await victim.restart(); // with a new NODE_ID
        return { dead_node_dropped_out_ms: droppedOutMs };
      },
    );
  }, 60_000);

  it('Redis restart: nodes reconnect by themselves and close the gap from the store', async () => {
    await phase('redis-restart', async () => {
      await redis.stop('SIGTERM');
      await sleep(300);
      await quietRecovery('redis-restart', () => redis.start());
    });
  }, 60_000);

  it('Redis unreachable for a while: connections stay up, /readyz says degraded, everything arrives once afterwards', async () => {
    await phase('redis-unreachable', async () => {
      const since = Date.now();
      await redisProxy.cutOff();
      await until(
        async () => (await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.json() as Promise<{ status: string }>)))).every((r) => r.status === 'degraded'),
        6000,
        'every node reporting degraded',
      );
      await sleep(REDIS_OUTAGE_MS);
      expect(clients.every((c) => c.open)).toBe(true);
      expect(clients.flatMap((c) => c.disconnects.filter((d) => d.at >= since))).toEqual([]);
      await quietRecovery('redis-unreachable', () => redisProxy.restore());
      await until(async () => (await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.status)))).every((s) => s === 200), 10_000, 'every node ready again');
    });
  }, 60_000 + REDIS_OUTAGE_MS);

  it('Redis silent for a while (the network drops everything, no reset): publishes fail in time, /readyz says degraded, everything arrives once afterwards', async () => {
    await phase('redis-silent', async () => {
      const since = Date.now();
      redisProxy.freeze();
      await until(
        async () => (await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.json() as Promise<{ status: string }>)))).every((r) => r.status === 'degraded'),
        8000,
        'every node reporting degraded',
      );
      await sleep(REDIS_OUTAGE_MS);
      expect(clients.every((c) => c.open)).toBe(true);
      expect(clients.flatMap((c) => c.disconnects.filter((d) => d.at >= since))).toEqual([]);
      await quietRecovery('redis-silent', async () => redisProxy.thaw());
      await until(async () => (await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.status)))).every((s) => s === 200), 10_000, 'every node ready again');
    });
  }, 60_000 + REDIS_OUTAGE_MS);

  it('PostgreSQL unreachable: publishing answers 503 with a JSON error, nodes recover when it returns', async () => {
    const unavailableBefore = producer.unavailable.length;
    await phase('postgres-unreachable', async () => {
      await pgProxy.cutOff();
      await until(() => producer.unavailable.length > unavailableBefore, 6000, 'a 503 while PostgreSQL is unreachable');
      const readyz = await fetch(`${cluster.nodes[0].url}/readyz`);
      expect(readyz.status).toBe(503);
      await sleep(1500);
      await pgProxy.restore();
      await until(async () => (await Promise.all(cluster.nodes.map((n) => fetch(`${n.url}/readyz`).then((r) => r.status)))).every((s) => s === 200), 10_000, 'every node ready again');
    });
    expect(producer.unavailable.slice(unavailableBefore)).toContainEqual(expect.objectContaining({ error: 'ERR_UNAVAILABLE', statusCode: 503 }));
  }, 60_000);

  it('reports the figures', () => {
    expect(figures.map((f) => f.fault)).toEqual(['sigterm', 'sigkill', 'redis-restart', 'redis-unreachable', 'redis-silent', 'postgres-unreachable']);
    console.log(`cluster producer statuses: ${JSON.stringify(Object.fromEntries(producer.statuses))} skipped=${producer.skipped}`);
  });
});
