// Herald-specific scenarios: cluster fan-out over Redis, the resume storm, slow consumers.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { cpuUs, now, sleep, stop, sum, waitForPort, start } from './lib.mjs';

const pg = await import('pg').then((m) => m.default ?? m).catch(() => undefined);

/**
 * A fresh PostgreSQL database when a server is reachable (cluster nodes share it); otherwise
 * undefined. A database rather than a schema: Kysely's migrator looks for its tables in every
 * schema, so other schemas in the same database (e.g. concurrent test runs) confuse it.
 */
async function freshDatabase(url) {
  if (!pg) return undefined;
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query(`create database ${name}`);
    await client.end();
  } catch {
    await client.end().catch(() => undefined);
    return undefined;
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

async function postNotifications(ctx, port, seqs, concurrency = 8) {
  let next = 0;
  const lane = async () => {
    while (next < seqs.length) {
      const seq = seqs[next++];
      const body = JSON.stringify({ message: `#B${seq}:${Math.round(now() * 1000)}#`, level: 'info', target: 'admin' });
      const r = await ctx.httpRequest(port, 'POST', '/api/v1/notifications', body, { authorization: `Bearer ${ctx.SERVICE_KEY}` });
      if (r.status !== 202) throw new Error(`POST /api/v1/notifications: ${r.status} ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function cluster(ctx, P, nodes, db) {
  const { log, Load, startHerald, fanOut } = ctx;
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const targets = [];
  for (let i = 0; i < nodes; i++) {
    const extraEnv = { REDIS_PREFIX: prefix, NODE_ID: `bench-node-${i}` };
    if (db) extraEnv.DATABASE_URL = db.url;
    targets.push(await startHerald({ name: `node${nodes}-${i}`, extraEnv, createUser: !db || i === 0 }));
  }
  // One logical target: CPU and RSS summed over the nodes, publishing on the shared channel.
  const t = { pids: () => targets.flatMap((x) => x.pids()), publish: targets[0].publish };
  const load = new Load();
  try {
    await Promise.all(load.workers.map((w, i) => w.rpc({ cmd: 'init', target: targets[i % nodes].client, addrs: [`127.0.0.${2 + i}`] })));
    const c = await load.connect(P.big, P.connConc);
    log(`cluster ${nodes}: connected ${c.ok} (failed ${c.failed})`);
    await sleep(1000);
    const fixed = await fanOut(t, load, { n: P.rateBig * P.secsBig, rate: P.rateBig });
    log(`cluster ${nodes} @${P.rateBig}/s`, ctx.fmtObj(fixed));
    const max = await fanOut(t, load, { n: P.burstBig, rate: 0 });
    log(`cluster ${nodes} max`, ctx.fmtObj(max));
    return { nodes, connected: c.ok, fixed, max };
  } finally {
    await load.exit();
    for (const x of targets) await x.stop();
  }
}

async function resumeStorm(ctx, P) {
  const { log, Load, startHerald } = ctx;
  const dataDir = join(ctx.TMP, `storm-${randomBytes(3).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  let node = await startHerald({ name: 'storm', dataDir });
  const port = node.port;
  const load = new Load();
  const [k1, k2, k3] = P.stormMsgs;
  const total = k1 + k2 + k3;
  const base = ctx.nextSeq(total);
  const seqs = Array.from({ length: total }, (_, i) => base + i);
  try {
    await load.init(node.client, true);
    const c = await load.connect(P.storm, P.connConc);
    log(`storm: connected ${c.ok} (failed ${c.failed})`);
    await load.all({ cmd: 'arm', base, count: total });
    const armed = (await load.stats()).armed;
    await postNotifications(ctx, port, seqs.slice(0, k1));
    await ctx.waitDelivered(load, armed * k1, 30000);
    await stop(node.proc, 'SIGKILL');
    log(`storm: node killed after ${k1} messages reached all ${armed} clients`);
    await sleep(500);
    const proc = start('storm-restarted', process.execPath, [join(ctx.ROOT, 'packages/server/dist/cli.js'), 'serve'], { env: node.env, core: 0, logDir: ctx.TMP });
    node = { ...node, proc, pids: () => [proc.pid], stop: () => stop(proc) };
    await waitForPort(port);
    // Published while the clients are away: they must come from the store on resume.
    await postNotifications(ctx, port, seqs.slice(k1, k1 + k2));
    const restarted = now();
    const cpu0 = cpuUs(proc.pid);
    // Every client reconnects at once with since=admins@<its offset>; more messages are published meanwhile.
    const [replies] = await Promise.all([load.all({ cmd: 'reconnect', retryForMs: 150000 }), sleep(50).then(() => postNotifications(ctx, port, seqs.slice(k1 + k2)))]);
    const allResumedMs = now() - restarted;
    const deadline = Date.now() + 120000;
    let s;
    for (;;) {
      s = await load.stats();
      if (s.received >= armed * total || Date.now() > deadline) break;
      await sleep(100);
    }
    const r = {
      clients: armed,
      messages: total,
      reconnected: sum(replies.map((x) => x.ok)),
      failed: sum(replies.map((x) => x.failed)),
      retries: sum(replies.map((x) => x.retries)),
      allResumedMs,
      cpuMsStorm: (cpuUs(proc.pid) - cpu0) / 1000,
      expected: armed * total,
      delivered: s.received,
      lost: s.lost,
      dups: s.dups,
      rssMiB: ctx.serverRss(node) / 2 ** 20,
    };
    log('storm', ctx.fmtObj(r));
    return r;
  } finally {
    await load.exit();
    await node.stop();
  }
}

/**
 * What the Redis hop adds: the same node, store and HTTP publish path (POST → store → broker →
 * fan-out), once with the in-process broker and once through Redis (PUBLISH → the node's own
 * subscription). Publish-to-receive latency is measured at a low rate on a few sockets, so it
 * is the path's, not a fan-out loop's; the runs alternate to spread any drift of the machine.
 */
async function redisHop(ctx, P) {
  const { log, Load } = ctx;
  const n = P.hopRate * P.hopSecs;
  const runs = [];
  for (const broker of ['memory', 'redis', 'memory', 'redis']) {
    const node = await ctx.startHerald({ name: `hop-${broker}-${runs.length}`, extraEnv: broker === 'memory' ? { REDIS_URL: '' } : {} });
    const load = new Load();
    try {
      await load.init(node.client);
      await load.connect(P.hopClients, 20);
      await postNotifications(ctx, node.port, [0, 0, 0], 1); // warm-up (sequence 0 is not counted)
      await sleep(500);
      const base = ctx.nextSeq(n);
      await load.all({ cmd: 'arm', base, count: n });
      const armed = (await load.stats()).armed;
      const start = now();
      for (let i = 0; i < n; i++) {
        const wait = start + (i * 1000) / P.hopRate - now();
        if (wait > 1) await sleep(wait);
        await postNotifications(ctx, node.port, [base + i], 1);
      }
      await ctx.waitDelivered(load, armed * n, 20000);
      const s = await load.stats();
      const r = { broker, clients: armed, messages: n, p50: s.p50, p90: s.p90, p99: s.p99, lost: s.lost, dups: s.dups };
      log('hop', ctx.fmtObj(r));
      runs.push(r);
    } finally {
      await load.exit();
      await node.stop();
    }
  }
  const of = (broker, key) => {
    const xs = runs.filter((r) => r.broker === broker).map((r) => r[key]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  return {
    clients: P.hopClients,
    rate: P.hopRate,
    secs: P.hopSecs,
    runs,
    memory: { p50: of('memory', 'p50'), p99: of('memory', 'p99') },
    redis: { p50: of('redis', 'p50'), p99: of('redis', 'p99') },
  };
}

async function slowConsumers(ctx, P, kind) {
  const { log, Load, fanOut, serverRss } = ctx;
  const n = 100;
  const slow = 10;
  const rate = 100;
  const secs = 15;
  const pad = 'x'.repeat(16 * 1024);
  const t =
    kind === 'herald'
      ? await ctx.startHerald({ name: 'slow', extraEnv: { WS_SEND_BUFFER_BYTES: String(1024 * 1024) } })
      : await ctx.startTarget(kind);
  const load = new Load();
  try {
    await load.init(t.client);
    await load.connect(n, 20);
    await sleep(500);
    const baseline = await fanOut(t, load, { n: rate * 3, rate, pad });
    const rssStart = serverRss(t);
    await load.all({ cmd: 'pause' }, () => ({ n: Math.ceil(slow / load.workers.length) }));
    let peak = rssStart;
    const sampler = setInterval(() => (peak = Math.max(peak, serverRss(t))), 200);
    const loaded = await fanOut(t, load, { n: rate * secs, rate, pad });
    clearInterval(sampler);
    const s = await load.stats();
    const r = { label: t.label, clients: n, slow, rate, payloadKiB: 16, secs, baselineP99: baseline.p99, p50: loaded.p50, p99: loaded.p99, lost: loaded.lost, dups: loaded.dups, rssStartMiB: rssStart / 2 ** 20, rssPeakMiB: peak / 2 ** 20, rssEndMiB: serverRss(t) / 2 ** 20, closes: JSON.stringify(s.closes) };
    log('slow', ctx.fmtObj(r));
    return r;
  } finally {
    await load.exit();
    await t.stop();
  }
}

export async function run({ results, SCENARIOS, P, ctx }) {
  if (SCENARIOS.includes('cluster')) {
    const db = await freshDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    results.clusterStore = db ? 'PostgreSQL (one fresh database shared by the nodes)' : 'SQLite per node (no PostgreSQL reachable)';
    results.cluster = [];
    try {
      for (const nodes of [1, 2, 4]) results.cluster.push(await cluster(ctx, P, nodes, db));
    } finally {
      await db?.drop().catch(() => undefined);
    }
  }
  if (SCENARIOS.includes('hop')) results.hop = await redisHop(ctx, P);
  if (SCENARIOS.includes('resume')) results.resume = await resumeStorm(ctx, P);
  if (SCENARIOS.includes('slow')) {
    results.slow = [];
    for (const kind of ['herald', 'ws']) results.slow.push(await slowConsumers(ctx, P, kind));
  }
}
