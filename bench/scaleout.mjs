// Issue 20: scale-out under equal cgroup CPU quotas (`cluster`: 1, 2 and 4 Herald nodes behind nginx)
// and 100,000 concurrent WebSocket connections on this machine (`hundredk`, full suite only).
// The scenario functions load lib.mjs lazily, so report.mjs can import the renderers without
// building anything.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const v = argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  return v === undefined ? fallback : Number(v);
};

/** Sizes and options (command line): see bench/README.md. */
export const SCALE = {
  quota: opt('scaleQuota', 15), // % of one core per node (cpu.cfs_quota_us / cpu.cfs_period_us)
  sockets: opt('scaleSockets', 6000), // admin sockets spread evenly over the nodes
  msgsPerNode: opt('scaleMsgs', 15), // notifications per node in the as-fast-as-possible phase
  nginxWorkers: opt('scaleNginxWorkers', 2),
  // nginx's core: unpinned by default (it proxies every delivery, ~10-20 µs each here: on core 1 with the load
  // generator it saturated that core at 4 nodes); the nodes keep their quota on core 0 through cpu.shares.
  nginxCore: argv.find((a) => a.startsWith('--scaleNginxCore='))?.slice(17) || undefined,
  // Publishes in flight. 1: one producer in order, round-robin over the nodes. More than one lets two nodes
  // publish to Redis out of offset order; each node then holds what overtook (ws/reorder.ts) for at most 50 ms.
  inflight: opt('scaleInflight', 1),
  repeats: opt('scaleRepeats', 2),
  nodes: (argv.find((a) => a.startsWith('--scaleNodes='))?.slice(13) ?? '1,2,4').split(',').map(Number),
};
/**
 * nginx ports per node in the 100,000 run. Connections from one address to one destination use
 * even local ports first (about 14,000 of 32768–60999); past that connect() scans the whole range
 * on every call (__inet_hash_connect: 75 % of the load processes' time at ~85,000 connections).
 */
const HK_PORTS_PER_NODE = 4;

export const HUNDREDK = {
  connections: opt('hundredk', 100000),
  nodes: opt('hundredkNodes', 0), // 0: ceil(connections / 17,000)
  secs: opt('hundredkSecs', 60), // broadcasts: one per --hundredkEveryMs
  everyMs: opt('hundredkEveryMs', 1000),
};

const CG_ROOT = '/sys/fs/cgroup/cpu';
const PERIOD_US = 100000;
const SHARES = 8192;
const cgroups = new Set();

/** A cgroup v1 CPU cgroup with `quotaPct` % of one core; removed on exit (after its processes died). */
function makeCgroup(name, quotaPct) {
  const dir = join(CG_ROOT, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
  // The machine may be shared: a node's weight is that of SHARES/1024 ordinary processes, so it gets its
  // quota even when something else runs on core 0 (the quota still caps it).
  writeFileSync(join(dir, 'cpu.shares'), String(SHARES));
  setQuota(dir, quotaPct);
  cgroups.add(dir);
  return dir;
}

/** `quotaPct` % of one core per period; undefined: no quota (-1). */
function setQuota(dir, quotaPct) {
  writeFileSync(join(dir, 'cpu.cfs_quota_us'), quotaPct === undefined ? '-1' : String(Math.round((PERIOD_US * quotaPct) / 100)));
}

function cgroupStat(dir) {
  const out = {};
  try {
    for (const line of readFileSync(join(dir, 'cpu.stat'), 'utf8').trim().split('\n')) {
      const [k, v] = line.split(' ');
      out[k] = Number(v);
    }
  } catch {
    /* gone */
  }
  return out;
}

/** Removes a cgroup once its processes are gone (waits up to `waitMs`, synchronously: also used on exit). */
function removeCgroup(dir, waitMs = 2000) {
  const end = Date.now() + waitMs;
  for (;;) {
    try {
      rmdirSync(dir);
      cgroups.delete(dir);
      return true;
    } catch (e) {
      if (e.code === 'ENOENT') {
        cgroups.delete(dir);
        return true;
      }
      if (Date.now() > end) return false;
      // The processes were killed but are not reaped yet: move whatever is left to the root, then retry.
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(CG_ROOT, 'cgroup.procs'), pid);
      } catch {
        /* raced */
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
process.on('exit', () => {
  for (const dir of [...cgroups]) removeCgroup(dir, 1000);
});

/** nginx in front of the nodes: one listen port per node (so clients are spread exactly evenly), WebSocket upgrade. */
async function startNginx(lib, ctx, { name, upstreamPorts, workers, core, portsPerUpstream = 1 }) {
  if (!existsSync('/usr/sbin/nginx')) throw new Error('nginx is not installed (run the suite once with the nchan target, or apt-get install nginx-light)');
  const dir = join(ctx.TMP, `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  // listenAll[i]: the ports of upstream i (several spread a load process's connections over several
  // destinations: connect() then finds a free local port at once instead of scanning a filling range).
  const listenAll = [];
  for (let i = 0; i < upstreamPorts.length; i++) {
    const ports = [];
    for (let k = 0; k < portsPerUpstream; k++) ports.push(await lib.freePort());
    listenAll.push(ports);
  }
  const listen = listenAll.map((ports) => ports[0]);
  const servers = upstreamPorts
    .map(
      (p, i) => `  upstream node${i} { server 127.0.0.1:${p}; keepalive 16; }
  server {
${listenAll[i].map((port) => `    listen 127.0.0.1:${port} backlog=8192${workers > 1 ? ' reuseport' : ''};`).join('\n')}
    location / {
      proxy_pass http://node${i};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
    }
  }`,
    )
    .join('\n');
  // Every proxied WebSocket holds two descriptors in its worker: worker_connections counts both.
  const conf = `worker_processes ${workers};
worker_rlimit_nofile 19500;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 19000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  tcp_nodelay on;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
${servers}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = lib.start(name, 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { core, logDir: ctx.TMP });
  for (const p of listenAll.flat()) await lib.waitForPort(p);
  await lib.sleep(300);
  return {
    proc,
    listen,
    listenAll,
    dir,
    pids: () => lib.withChildren(proc.pid),
    errors: () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8')
          .split('\n')
          .filter((l) => /worker_connections|Too many open files|\[alert\]|\[crit\]|\[emerg\]/.test(l)).length;
      } catch {
        return 0;
      }
    },
    stop: () => lib.stop(proc, 'SIGQUIT', 3000),
  };
}

/** A fresh PostgreSQL database shared by the nodes (name prefix BENCH_DB_PREFIX, default `herald_`); undefined without PostgreSQL. */
function freshDatabase(lib) {
  return lib.testing.freshPostgresDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', process.env.BENCH_DB_PREFIX || undefined);
}

/** Herald nodes sharing `db` and one Redis prefix; `cgroupFor(i)` puts node i in a cgroup once it is up. */
async function startNodes(ctx, n, db, { name, core, cgroupFor }) {
  const prefix = `bench${randomBytes(4).toString('hex')}:`;
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const extraEnv = { REDIS_PREFIX: prefix, NODE_ID: `${name}-${i}` };
    if (db) extraEnv.DATABASE_URL = db.url;
    const node = await ctx.startHerald({ name: `${name}-${i}`, extraEnv, core });
    // Start-up (migrations, bcrypt login) runs unconstrained; from here on the node lives in its cgroup (all its threads move).
    if (cgroupFor) {
      node.cgroup = cgroupFor(i);
      writeFileSync(join(node.cgroup, 'cgroup.procs'), String(node.node.pid));
    }
    nodes.push(node);
  }
  return nodes;
}

async function stopNodes(nodes) {
  for (const x of nodes) {
    await x.stop();
    if (x.cgroup) removeCgroup(x.cgroup);
  }
}

/** Sends `seqs` as notifications, round-robin over `ports`, `perPort` requests in flight per port. */
async function publishRoundRobin(ctx, ports, seqs, inflight = 1) {
  let next = 0;
  const lane = async () => {
    while (next < seqs.length) {
      const k = next++;
      await ctx.postNotification(ports[k % ports.length], seqs[k]);
    }
  };
  await Promise.all(Array.from({ length: inflight }, lane));
}

/** Waits until the workers received `expected` deliveries (or the timeout). */
async function waitFor(lib, load, expected, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const p = await load.all({ cmd: 'progress' });
    const got = lib.sum(p.map((r) => r.received));
    if (got >= expected || Date.now() > end) return got;
    await lib.sleep(100);
  }
}

// ---------------------------------------------------------------- scale-out under quotas

async function scaleRun(lib, ctx, P, nodesCount, db) {
  const { log } = ctx;
  const runId = `${process.pid}`;
  const nodes = await startNodes(ctx, nodesCount, db, {
    name: `scale${nodesCount}`,
    core: 0,
    // No quota while the sockets connect (it would only make the run longer); the quota is set for the measured phase.
    cgroupFor: (i) => makeCgroup(`herald-bench-${runId}-${nodesCount}-${i}`, undefined),
  });
  const nginx = await startNginx(lib, ctx, { name: `scale-nginx${nodesCount}`, upstreamPorts: nodes.map((x) => x.port), workers: SCALE.nginxWorkers, core: SCALE.nginxCore });
  const WORKERS = 4;
  const load = new ctx.Load(WORKERS);
  const ADDRS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  try {
    // Worker w holds its sockets on node w % nodes (through that node's nginx port): an even split.
    await Promise.all(
      load.workers.map((w, i) => {
        const url = new URL(nodes[i % nodesCount].client.url);
        url.port = String(nginx.listen[i % nodesCount]);
        return w.rpc({ cmd: 'init', target: { kind: 'herald', url: url.toString() }, addrs: [ADDRS[i]] });
      }),
    );
    const t0 = lib.now();
    const share = (i) => Math.floor(SCALE.sockets / WORKERS) + (i < SCALE.sockets % WORKERS ? 1 : 0);
    const c = await load.all({ cmd: 'connect', concurrency: 25 }, (i) => ({ n: share(i) }));
    const connected = lib.sum(c.map((r) => r.ok));
    log(`scale ${nodesCount}: connected ${connected} (failed ${lib.sum(c.map((r) => r.failed))}) in ${((lib.now() - t0) / 1000).toFixed(1)} s`);
    const ports = nodes.map((x) => x.port);
    // Warm-up (sequence 0, not counted), then a pause so the phase does not pay for the connects.
    await publishRoundRobin(ctx, ports, new Array(nodesCount * 2).fill(0), 1);
    await lib.sleep(2000);
    for (const x of nodes) setQuota(x.cgroup, SCALE.quota);
    await lib.sleep(500);
    // The machine is shared: the measured phase runs `repeats` times and the least disturbed one
    // (highest deliveries/s) is kept; every phase's figures are in `phases`.
    const phases = [];
    for (let k = 0; k < SCALE.repeats; k++) {
      phases.push(await phase());
      await lib.sleep(1000);
    }
    const best = phases.reduce((a, b) => (b.deliveriesPerSec > a.deliveriesPerSec ? b : a));
    return { ...best, phases: phases.map((x) => ({ deliveriesPerSec: x.deliveriesPerSec, cpuUsPerDelivery: x.cpuUsPerDelivery, perNodeUs: x.perNode.map((y) => y.cpuUsPerDelivery), lost: x.lost, dups: x.dups, loadavg: x.loadavg })) };

    // One measured phase: n notifications back to back, every delivery counted.
    async function phase() {
    const n = SCALE.msgsPerNode * nodesCount;
    const base = ctx.nextSeq(n);
    await load.all({ cmd: 'arm', base, count: n });
    const armedPer = (await load.all({ cmd: 'stats' })).map((s) => s.armed);
    const expected = lib.sum(armedPer) * n;
    const nodeCpu0 = nodes.map((x) => lib.cpuSplitUs(x.node.pid));
    const cg0 = nodes.map((x) => cgroupStat(x.cgroup));
    const nginxCpu0 = lib.sum(nginx.pids().map(lib.cpuUs));
    const loadCpu0 = lib.sum(load.pids().map(lib.cpuUs));
    const redisCpu0 = ctx.redisPid ? lib.cpuUs(ctx.redisPid()) : 0;
    const start = lib.now();
    await publishRoundRobin(ctx, ports, Array.from({ length: n }, (_, i) => base + i), SCALE.inflight);
    const published = lib.now();
    await waitFor(lib, load, expected, 120000);
    const per = await load.all({ cmd: 'stats' });
    const s = lib.mergeStats(per);
    const elapsedMs = Math.max(s.lastRecvAt, published) - start;
    const perNode = nodes.map((x, i) => {
      const cpu = lib.cpuSplitUs(x.node.pid);
      const user = cpu.user - nodeCpu0[i].user;
      const kernel = cpu.kernel - nodeCpu0[i].kernel;
      const delivered = lib.sum(per.filter((_, w) => w % nodesCount === i).map((r) => r.received));
      const cg = cgroupStat(x.cgroup);
      const periods = cg.nr_periods - cg0[i].nr_periods;
      const throttled = cg.nr_throttled - cg0[i].nr_throttled;
      return {
        node: i,
        delivered,
        cpuUsPerDelivery: (user + kernel) / Math.max(1, delivered),
        userUsPerDelivery: user / Math.max(1, delivered),
        kernelUsPerDelivery: kernel / Math.max(1, delivered),
        coreUse: (user + kernel) / 1000 / elapsedMs,
        periods,
        throttled,
        throttledPct: (100 * throttled) / Math.max(1, periods),
        throttledMs: (cg.throttled_time - cg0[i].throttled_time) / 1e6,
      };
    });
    const r = {
      nodes: nodesCount,
      quotaPct: SCALE.quota,
      inflight: SCALE.inflight,
      connected,
      messages: n,
      expected,
      delivered: s.received,
      lost: s.lost,
      dups: s.dups,
      p50: s.p50,
      p99: s.p99,
      elapsedMs,
      publishMs: published - start,
      deliveriesPerSec: (s.received / elapsedMs) * 1000,
      cpuUsPerDelivery: lib.sum(perNode.map((x) => x.cpuUsPerDelivery * x.delivered)) / Math.max(1, s.received),
      perNode,
      nginxCoreUse: (lib.sum(nginx.pids().map(lib.cpuUs)) - nginxCpu0) / 1000 / elapsedMs,
      nginxUsPerDelivery: (lib.sum(nginx.pids().map(lib.cpuUs)) - nginxCpu0) / Math.max(1, s.received),
      loadCoreUse: (lib.sum(load.pids().map(lib.cpuUs)) - loadCpu0) / 1000 / elapsedMs,
      redisCoreUse: ctx.redisPid ? (lib.cpuUs(ctx.redisPid()) - redisCpu0) / 1000 / elapsedMs : undefined,
      nginxErrors: nginx.errors(),
      loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
    };
    log(
      `scale ${nodesCount}: ${r.delivered}/${r.expected} delivered (lost ${r.lost}, dup ${r.dups}) in ${(elapsedMs / 1000).toFixed(1)} s (publishing took ${(r.publishMs / 1000).toFixed(1)} s) = ${r.deliveriesPerSec.toFixed(0)}/s; ` +
        `per node µs/delivery ${perNode.map((x) => x.cpuUsPerDelivery.toFixed(2)).join(' ')}, core use ${perNode.map((x) => x.coreUse.toFixed(2)).join(' ')}, throttled ${perNode.map((x) => x.throttledPct.toFixed(0)).join(' ')} %; ` +
        `nginx ${r.nginxCoreUse.toFixed(2)} core (${r.nginxUsPerDelivery.toFixed(2)} µs/delivery), load ${r.loadCoreUse.toFixed(2)}, redis ${r.redisCoreUse?.toFixed(3)}; loadavg ${r.loadavg}`,
    );
    return r;
    }
  } finally {
    await load.exit();
    await nginx.stop();
    await stopNodes(nodes);
  }
}

/** `cluster`: 1, 2 and 4 nodes, each capped to the same quota of core 0, behind nginx. */
export async function scaleout(ctx, P) {
  const lib = await import('./lib.mjs');
  if (!existsSync(join(CG_ROOT, 'cgroup.procs'))) throw new Error(`${CG_ROOT} (cgroup v1 cpu controller) is not mounted: the scale-out scenario needs it`);
  if (SCALE.quota * 4 > 100) throw new Error('--scaleQuota: 4 nodes must fit in core 0 (≤ 25 %)');
  const db = await freshDatabase(lib);
  const out = {
    store: db ? 'PostgreSQL (one fresh database shared by the nodes)' : 'SQLite per node (no PostgreSQL reachable)',
    quotaPct: SCALE.quota,
    sockets: SCALE.sockets,
    msgsPerNode: SCALE.msgsPerNode,
    inflight: SCALE.inflight,
    repeats: SCALE.repeats,
    nginxWorkers: SCALE.nginxWorkers,
    nginxCore: SCALE.nginxCore ?? 'any',
    cores: lib.CORES,
    runs: [],
  };
  try {
    for (const n of SCALE.nodes) out.runs.push(await scaleRun(lib, ctx, P, n, db));
  } finally {
    await db?.drop().catch(() => undefined);
  }
  return out;
}

// ---------------------------------------------------------------- 100,000 connections

/** `hundredk`: N connections over enough nodes behind nginx, one broadcast per second, every delivery counted. */
export async function hundredk(ctx, P) {
  const lib = await import('./lib.mjs');
  const { log } = ctx;
  const total = HUNDREDK.connections;
  const nodesCount = HUNDREDK.nodes || Math.ceil(total / 17000);
  const perNode = Math.ceil(total / nodesCount);
  if (perNode > 19000) throw new Error(`--hundredkNodes: ${perNode} sockets per node exceed the open-file limit (about 19,000)`);
  // nginx holds two descriptors per connection: enough workers that each stays below ~8,500 connections (17,000 fds of 19,500).
  const nginxWorkers = Math.max(2, Math.ceil(total / 8000));
  const db = await freshDatabase(lib);
  const t0 = lib.now();
  // The nodes and nginx are not pinned (the whole machine is theirs and the load generator's); the load workers run on core 1.
  const nodes = await startNodes(ctx, nodesCount, db, { name: 'hk', core: '0,1' });
  const nginx = await startNginx(lib, ctx, { name: 'hk-nginx', upstreamPorts: nodes.map((x) => x.port), workers: nginxWorkers, portsPerUpstream: HK_PORTS_PER_NODE });
  // One load worker per node (≤ ~17,000 clients each), each with its own source address.
  const load = new ctx.Load(nodesCount);
  const sample = () => ({
    nodes: nodes.map((x) => ({ cpu: lib.cpuUs(x.node.pid), rss: lib.rssBytes(x.node.pid) })),
    nginxCpu: lib.sum(nginx.pids().map(lib.cpuUs)),
    nginxRss: lib.sum(nginx.pids().map(lib.rssBytes)),
    loadCpu: lib.sum(load.pids().map(lib.cpuUs)),
    loadRss: lib.sum(load.pids().map(lib.rssBytes)),
  });
  try {
    log(`hundredk: ${nodesCount} nodes, nginx ${nginxWorkers} workers, started in ${((lib.now() - t0) / 1000).toFixed(1)} s`);
    await Promise.all(
      load.workers.map((w, i) => {
        const url = new URL(nodes[i].client.url);
        url.port = String(nginx.listen[i]);
        const urls = nginx.listenAll[i].map((port) => Object.assign(new URL(url), { port: String(port) }).toString());
        // No source address: each worker has its own nginx port, hence its own 28k-port space, and connect()
        // picks a free port without bind()'s search of the bound ports (which grows as they fill). Measured with
        // 100,000 on a loaded machine: 68,000 connected after 15 min with the bind, 90,000 after 17 min without;
        // both slowed down past ~65,000: connect()'s search for a free local port (see HK_PORTS_PER_NODE).
        return w.rpc({ cmd: 'init', target: { kind: 'herald', url: url.toString() }, addrs: [null], urls });
      }),
    );
    await lib.sleep(1000);
    const before = sample();
    const c0 = lib.now();
    const share = (i) => Math.floor(total / nodesCount) + (i < total % nodesCount ? 1 : 0);
    // Connections ready over time (every 15 s): the connect rate falls as the nodes fill up.
    const timeline = [];
    let connecting = true;
    const poll = (async () => {
      for (let next = 15000; connecting; next += 15000) {
        while (connecting && lib.now() - c0 < next) await lib.sleep(250);
        if (!connecting) break;
        const ready = lib.sum((await load.all({ cmd: 'stats' })).map((x) => x.ready));
        timeline.push({ s: Math.round((lib.now() - c0) / 1000), ready });
        log(`hundredk: ${ready} connected after ${Math.round((lib.now() - c0) / 1000)} s`);
      }
    })();
    const c = await load.all({ cmd: 'connect', concurrency: 50 }, (i) => ({ n: share(i) }));
    connecting = false;
    await poll;
    const connectMs = lib.now() - c0;
    const connected = lib.sum(c.map((r) => r.ok));
    const failed = lib.sum(c.map((r) => r.failed));
    const afterConnect = sample();
    log(`hundredk: connected ${connected} (failed ${failed}) in ${(connectMs / 1000).toFixed(1)} s`);
    await lib.sleep(3000);
    const idle = sample();
    const ports = nodes.map((x) => x.port);
    await publishRoundRobin(ctx, ports, [0], 1); // warm-up, not counted
    await lib.sleep(2000);
    const n = HUNDREDK.secs;
    const base = ctx.nextSeq(n);
    await load.all({ cmd: 'arm', base, count: n });
    const armed = (await load.stats()).armed;
    const b0 = sample();
    const start = lib.now();
    // On schedule, one per second, as a producer would: a POST does not wait for the previous one's answer.
    // A 503 ("may or may not be stored": the node's store pool timed out while its event loop was busy
    // fanning out) is retried with the same body and Idempotency-Key, as docs/producers.md tells producers to.
    let retries = 0;
    const publishOnce = async (port, seq) => {
      const at = lib.now();
      for (let attempt = 1; ; attempt++) {
        try {
          return await ctx.postNotification(port, seq, '', { headers: { 'idempotency-key': `hundredk-${seq}` }, at });
        } catch (error) {
          // 503, 408 or a cut request (the node's store pool or HTTP timeouts passed while its event loop lagged): same body and key again.
          if (attempt >= 8 || !(/: (503|408) /.test(String(error.message)) || error.code === 'ECONNRESET')) throw error;
          retries++;
          await lib.sleep(1000 * attempt);
        }
      }
    };
    const posts = [];
    for (let i = 0; i < n; i++) {
      const wait = start + i * HUNDREDK.everyMs - lib.now();
      if (wait > 1) await lib.sleep(wait);
      posts.push(publishOnce(ports[i % ports.length], base + i));
      if ((i + 1) % 10 === 0) {
        const got = lib.sum((await load.all({ cmd: 'progress' })).map((p) => p.received));
        log(`hundredk: ${i + 1} broadcasts sent, ${got} of ${armed * (i + 1)} delivered so far`);
      }
    }
    await Promise.all(posts);
    const publishedMs = lib.now() - start;
    // Generous: when the machine cannot keep up with one broadcast per second, the backlog drains after the last one.
    await waitFor(lib, load, armed * n, 120000 + armed * n * 0.04);
    log(`hundredk: last delivery ${((lib.now() - start) / 1000).toFixed(1)} s after the first broadcast`);
    const b1 = sample();
    const s = await load.stats();
    const elapsedMs = Math.max(s.lastRecvAt, start) - start;
    const nodeRss = idle.nodes.map((x, i) => x.rss - before.nodes[i].rss);
    const nodeConnectCpu = lib.sum(afterConnect.nodes.map((x, i) => x.cpu - before.nodes[i].cpu));
    const nodeBroadcastCpu = lib.sum(b1.nodes.map((x, i) => x.cpu - b0.nodes[i].cpu));
    const r = {
      publishRetries: retries,
      connections: total,
      nodes: nodesCount,
      nginxWorkers,
      loadWorkers: nodesCount,
      cores: lib.CORES,
      memoryGiB: os.totalmem() / 2 ** 30,
      connected,
      failed,
      connectMs,
      connectsPerSec: (connected / connectMs) * 1000,
      timeline,
      connectCpuUsPerConn: { nodes: nodeConnectCpu / Math.max(1, connected), nginx: (afterConnect.nginxCpu - before.nginxCpu) / Math.max(1, connected), load: (afterConnect.loadCpu - before.loadCpu) / Math.max(1, connected) },
      rssPerConn: {
        nodes: lib.sum(nodeRss) / Math.max(1, connected),
        nginx: (idle.nginxRss - before.nginxRss) / Math.max(1, connected),
        perNode: nodeRss.map((x, i) => x / Math.max(1, lib.sum(c.filter((_, w) => w === i).map((r) => r.ok)))),
        load: (idle.loadRss - before.loadRss) / Math.max(1, connected),
      },
      rssMiB: { nodes: idle.nodes.map((x) => x.rss / 2 ** 20), nginx: idle.nginxRss / 2 ** 20 },
      broadcasts: n,
      everyMs: HUNDREDK.everyMs,
      publishedMs,
      armed,
      expected: armed * n,
      ...lib.deliveryFigures(s),
      elapsedMs,
      cpuUsPerDelivery: { nodes: nodeBroadcastCpu / Math.max(1, s.received), nginx: (b1.nginxCpu - b0.nginxCpu) / Math.max(1, s.received), load: (b1.loadCpu - b0.loadCpu) / Math.max(1, s.received) },
      coreUse: { nodes: nodeBroadcastCpu / 1000 / elapsedMs, nginx: (b1.nginxCpu - b0.nginxCpu) / 1000 / elapsedMs, load: (b1.loadCpu - b0.loadCpu) / 1000 / elapsedMs },
      nginxErrors: nginx.errors(),
      closes: JSON.stringify(s.closes),
      loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
      wallMs: lib.now() - t0,
    };
    log('hundredk', ctx.fmtObj({ ...r, connectCpuUsPerConn: JSON.stringify(r.connectCpuUsPerConn), rssPerConn: JSON.stringify(r.rssPerConn), rssMiB: undefined, cpuUsPerDelivery: JSON.stringify(r.cpuUsPerDelivery), coreUse: JSON.stringify(r.coreUse) }));
    return r;
  } finally {
    await load.exit();
    await nginx.stop();
    await stopNodes(nodes);
    await db?.drop().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- report

const f = (x, d = 1) => (typeof x !== 'number' || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));
const int = (x) => (typeof x === 'number' && Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');

/** RESULTS.md lines for the scale-out scenario (`results.scaleout`). */
export function scaleoutReport(results) {
  const s = results.scaleout;
  if (!s?.runs?.length) return [];
  const one = s.runs.find((r) => r.nodes === 1);
  const at = (n) => s.runs.find((r) => r.nodes === n);
  const ratio = (r) => (one && r ? r.deliveriesPerSec / one.deliveriesPerSec : NaN);
  const lines = [];
  lines.push(`## Scale-out under equal CPU quotas (Herald, 1 / 2 / 4 nodes behind nginx; store: ${s.store})`, '');
  lines.push(
    `Each node runs in its own cgroup (\`/sys/fs/cgroup/cpu/herald-bench-*\`, \`cpu.cfs_quota_us\` = ${s.quotaPct} % of \`cpu.cfs_period_us\` 100 ms) and is pinned to core 0, so 4 nodes use at most ${4 * s.quotaPct} % of it; the quota is set after the sockets have connected. ` +
      `Redis, the load generator (4 processes) and the driver run on core 1; nginx (${s.nginxWorkers} workers, one listen port per node, WebSocket upgrade) ${s.nginxCore === 'any' ? 'is not pinned: it proxies every delivery, and on core 1 next to the load generator it saturated that core at 4 nodes, so it takes what the nodes leave of core 0 and what is left of core 1' : `runs on core ${s.nginxCore ?? 1}`}. Each node cgroup has \`cpu.shares\` 8192, so nothing else on core 0 takes its quota. ` +
      `${int(s.sockets)} admin sockets (real tokens from \`POST /api/v1/auth/login\`) split evenly over the nodes through nginx; ${s.msgsPerNode} notifications per node (${s.msgsPerNode} / ${s.msgsPerNode * 2} / ${s.msgsPerNode * 4}) published back to back through \`POST /api/v1/notifications\` with the service key, round-robin over the nodes, ${s.inflight ?? 1} request${(s.inflight ?? 1) > 1 ? 's' : ''} in flight (one in-order producer; with several in flight, two nodes can put messages on Redis out of offset order, and each node holds what overtook for at most 50 ms until the gap fills: \`ws/reorder.ts\`), each stored in PostgreSQL and fanned out to every socket of every node over Redis. ` +
      `The phase runs ${s.repeats ?? 1} time${(s.repeats ?? 1) > 1 ? 's' : ''} per node count on the same sockets and the one with the highest deliveries/s is shown (the machine is shared: the others are in the last column). ` +
      `Deliveries/s = deliveries ÷ (last receive − first publish). CPU per delivery per node = the node's utime+stime (\`/proc\`) ÷ deliveries to its sockets; throttled = periods in which the cgroup hit its quota (\`cpu.stat\`).`,
    '',
  );
  lines.push('| nodes | delivered / expected | lost / dup | deliveries/s ↑ | ÷ 1 node | CPU µs per delivery, per node ↓ | user / kernel µs | node core use (quota ' + (s.quotaPct / 100).toFixed(2) + ') | throttled periods | throttled ms | nginx core / µs per delivery | load-generator core | Redis core | p50 / p99 ms | publishing took s / phase s | every phase: deliveries/s (µs per delivery) |');
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of s.runs) {
    const pn = r.perNode;
    lines.push(
      `| ${r.nodes} | ${int(r.delivered)} / ${int(r.expected)} | ${r.lost} / ${r.dups} | ${int(r.deliveriesPerSec)} | ${f(ratio(r), 2)}× | ${pn.map((x) => f(x.cpuUsPerDelivery, 2)).join(', ')} | ${f(weighted(pn, 'userUsPerDelivery', r), 2)} / ${f(weighted(pn, 'kernelUsPerDelivery', r), 2)} | ${pn.map((x) => f(x.coreUse, 2)).join(', ')} | ${pn.map((x) => `${f(x.throttledPct, 0)} %`).join(', ')} | ${pn.map((x) => f(x.throttledMs, 0)).join(', ')} | ${f(r.nginxCoreUse, 2)} / ${f(r.nginxUsPerDelivery, 2)} | ${f(r.loadCoreUse, 2)} | ${f(r.redisCoreUse, 3)} | ${f(r.p50, 0)} / ${f(r.p99, 0)} | ${f(r.publishMs / 1000, 1)} / ${f(r.elapsedMs / 1000, 1)} | ${(r.phases ?? []).map((x) => `${int(x.deliveriesPerSec)} (${f(x.cpuUsPerDelivery, 1)})`).join(', ')} |`,
    );
  }
  lines.push('');
  const two = at(2);
  const four = at(4);
  const flat = one && four ? Math.max(...four.perNode.map((x) => x.cpuUsPerDelivery)) / one.cpuUsPerDelivery : NaN;
  lines.push('| target | measured | |', '| --- | --- | --- |');
  const add = (goal, measured, met) => lines.push(`| ${goal} | ${measured} | ${met === undefined ? 'not measured' : met ? '**met**' : '**not met**'} |`);
  if (two) add('2 nodes ≥ 1.8× one node\'s deliveries/s (equal quota per node)', `${int(two.deliveriesPerSec)} vs ${int(one?.deliveriesPerSec)} /s = ${f(ratio(two), 2)}×`, ratio(two) >= 1.8);
  if (four) add('4 nodes ≥ 3.4× one node\'s deliveries/s', `${int(four.deliveriesPerSec)} vs ${int(one?.deliveriesPerSec)} /s = ${f(ratio(four), 2)}×`, ratio(four) >= 3.4);
  if (four) add('fan-out cost per node flat (4 nodes\' highest CPU µs per delivery ≤ 1.15× one node\'s)', `${f(Math.max(...four.perNode.map((x) => x.cpuUsPerDelivery)), 2)} vs ${f(one?.cpuUsPerDelivery, 2)} µs = ${f(flat, 2)}×`, flat <= 1.15);
  const losses = (r) => (r.phases ?? [r]).reduce((a, x) => [a[0] + x.lost, a[1] + x.dups], [0, 0]);
  add('0 lost or duplicated (every phase)', s.runs.map((r) => `${r.nodes} node${r.nodes > 1 ? 's' : ''}: ${losses(r).join(' / ')}`).join(', '), s.runs.every((r) => losses(r)[0] === 0 && losses(r)[1] === 0 && r.delivered === r.expected));
  lines.push('');
  const why = [];
  for (const r of [two, four]) {
    if (!r || !one) continue;
    const goal = r.nodes === 2 ? 1.8 : 3.4;
    if (ratio(r) >= goal) continue;
    const nodeUse = Math.min(...r.perNode.map((x) => x.coreUse)) / (s.quotaPct / 100);
    const core1 = r.nginxCoreUse + r.loadCoreUse + (r.redisCoreUse ?? 0);
    why.push(
      `- **${r.nodes} nodes: ${f(ratio(r), 2)}× (goal ${goal}×).** The least busy node used ${f(100 * nodeUse, 0)} % of its quota (throttled in ${r.perNode.map((x) => `${f(x.throttledPct, 0)} %`).join(', ')} of the periods), against ${f((100 * one.perNode[0].coreUse) / (s.quotaPct / 100), 0)} % for the single node; ` +
        `core 1 (nginx ${f(r.nginxCoreUse, 2)} + load generator ${f(r.loadCoreUse, 2)} + Redis ${f(r.redisCoreUse ?? 0, 3)} = ${f(core1, 2)} of a core) ${core1 > 0.85 ? 'is saturated: the load side, not the nodes, is the limit' : 'has room'}; ` +
        `CPU per delivery per node went from ${f(one.cpuUsPerDelivery, 2)} to ${r.perNode.map((x) => f(x.cpuUsPerDelivery, 2)).join(', ')} µs` +
        `${r.perNode.every((x) => x.cpuUsPerDelivery <= 1.15 * one.cpuUsPerDelivery) ? ' (flat: the shortfall is time the nodes did not get, not extra work)' : ' (each node paid more per delivery)'}; ` +
        `the publisher took ${f(r.publishMs / 1000, 1)} s of the ${f(r.elapsedMs / 1000, 1)} s phase${r.publishMs > 0.9 * r.elapsedMs ? ' (close to all of it: the single in-order producer may have been the limit)' : ''}. Load average at the end: ${r.loadavg} (other sessions share this machine).`,
    );
  }
  if (why.length) lines.push('What limits the targets not met (from the same run):', '', ...why, '');
  return lines;
}

/** A per-node figure averaged over the nodes, weighted by their deliveries. */
function weighted(perNode, key, r) {
  return perNode.reduce((a, x) => a + x[key] * x.delivered, 0) / Math.max(1, r.delivered);
}

/** RESULTS.md lines for the 100,000-connection scenario (`results.hundredk`), with the 1,000,000-connection plan. */
export function hundredkReport(results) {
  const h = results.hundredk;
  if (!h) return [];
  const lines = [];
  const mib = (b) => f(b / 2 ** 10, 2);
  lines.push(`## ${int(h.connections)} concurrent WebSocket connections (Herald, ${h.nodes} nodes behind nginx)`, '');
  lines.push(
    `${h.nodes} Herald nodes (PostgreSQL shared, Redis broker; not pinned), nginx with ${h.nginxWorkers} workers (\`reuseport\`, \`worker_rlimit_nofile 19500\`: two descriptors per proxied connection, ≤ ~9,700 connections per worker; ${HK_PORTS_PER_NODE} listen ports per node, so no pair of addresses holds more connections than connect() finds free local ports for at once), ` +
      `${h.loadWorkers} load-generator processes on core 1 (one per node, each to its own nginx ports, without binding a source address, which spares the kernel's search of bound ports on every connect). Every client signs in with a real token (the administrator's, from \`POST /api/v1/auth/login\`). ` +
      `Then ${h.broadcasts} notifications, one every ${f((h.everyMs ?? 1000) / 1000, 1)} s, through \`POST /api/v1/notifications\` (service key, target admin, round-robin over the nodes, each with an \`Idempotency-Key\`), each to every connection. ` +
      `A 503 (the node's store pool timed out while its event loop was busy fanning out) is retried with the same body and key, as a producer does: ${h.publishRetries ?? 0} retries in this run.`,
    '',
  );
  lines.push('| metric | value |', '| --- | --- |');
  const row = (k, v) => lines.push(`| ${k} | ${v} |`);
  row('connected / failed', `${int(h.connected)} / ${int(h.failed)}`);
  row('connect time (all, 50 in flight per load process)', `${f(h.connectMs / 1000, 1)} s (${int(h.connectsPerSec)} connections/s)`);
  if (h.timeline?.length) row('connections ready over time (s: count)', h.timeline.map((x) => `${x.s}: ${int(x.ready)}`).join(', '));
  row('CPU µs per connect (+ JWT): nodes / nginx / load generator', `${f(h.connectCpuUsPerConn.nodes, 0)} / ${f(h.connectCpuUsPerConn.nginx, 0)} / ${f(h.connectCpuUsPerConn.load, 0)}`);
  row('memory per connection, idle (RSS growth ÷ connections): nodes + nginx', `${mib(h.rssPerConn.nodes + h.rssPerConn.nginx)} KiB (nodes ${mib(h.rssPerConn.nodes)}, nginx ${mib(h.rssPerConn.nginx)})`);
  row('… per node (KiB per connection)', h.rssPerConn.perNode.map((x) => mib(x)).join(', '));
  row('RSS after connecting: nodes / nginx (MiB)', `${h.rssMiB.nodes.map((x) => f(x, 0)).join(', ')} / ${f(h.rssMiB.nginx, 0)}`);
  if (h.publishedMs !== undefined) row(`broadcasts sent (one every ${f((h.everyMs ?? 1000) / 1000, 1)} s) / last answered after`, `${h.broadcasts} / ${f(h.publishedMs / 1000, 1)} s`);
  row('deliveries expected / delivered', `${int(h.expected)} / ${int(h.delivered)}`);
  row('lost / duplicated', `${h.lost} / ${h.dups}`);
  row('latency p50 / p90 / p99 / max ms (publish → receive)', `${f(h.p50, 0)} / ${f(h.p90, 0)} / ${f(h.p99, 0)} / ${f(h.max, 0)}`);
  row('CPU µs per delivery: nodes / nginx / load generator', `${f(h.cpuUsPerDelivery.nodes, 2)} / ${f(h.cpuUsPerDelivery.nginx, 2)} / ${f(h.cpuUsPerDelivery.load, 2)}`);
  row('core use during the broadcasts: nodes / nginx / load generator', `${f(h.coreUse.nodes, 2)} / ${f(h.coreUse.nginx, 2)} / ${f(h.coreUse.load, 2)} (of ${h.cores})`);
  row('nginx fd / worker_connections errors in its log', String(h.nginxErrors));
  row('closes seen by clients', h.closes);
  row('scenario wall time', `${f(h.wallMs / 1000, 0)} s`);
  lines.push('');
  lines.push('| target | measured | |', '| --- | --- | --- |');
  const ok = h.connected === h.connections && h.lost === 0 && h.dups === 0 && h.delivered === h.connections * h.broadcasts;
  lines.push(`| ${int(h.connections)} connections, every broadcast reaches every one, 0 lost / dup | ${int(h.connected)} connected, ${int(h.delivered)} of ${int(h.connections * h.broadcasts)} delivered, ${h.lost} / ${h.dups} | ${ok ? '**met**' : '**not met**'} |`);
  lines.push(`| scenario ≤ 6 min wall | ${f(h.wallMs / 1000, 0)} s | ${h.wallMs <= 360000 ? '**met**' : '**not met**'} |`, '');
  const perBroadcast = (h.cpuUsPerDelivery.nodes + h.cpuUsPerDelivery.nginx + h.cpuUsPerDelivery.load) * h.connections / 1e6; // CPU-s per broadcast
  const perConnect = h.connectCpuUsPerConn.nodes + h.connectCpuUsPerConn.nginx + h.connectCpuUsPerConn.load;
  lines.push(
    `What bounds it on this machine (${h.cores} cores, shared with other sessions: load average ${h.loadavg} at the end): ` +
      `connecting costs ${f(perConnect, 0)} µs of CPU per connection over nodes, nginx and clients, i.e. ${f((perConnect * h.connections) / 1e6, 0)} CPU-s for all, ${f((perConnect * h.connections) / 1e6 / h.cores, 0)} s at best on ${h.cores} cores (measured: ${f(h.connectMs / 1000, 0)} s); ` +
      `one broadcast costs ${f(perBroadcast, 2)} CPU-s (nodes ${f(h.cpuUsPerDelivery.nodes, 2)} + nginx ${f(h.cpuUsPerDelivery.nginx, 2)} + clients ${f(h.cpuUsPerDelivery.load, 2)} µs per delivery), ` +
      `${perBroadcast > h.cores ? `more than the ${h.cores} cores provide per second: the broadcasts queue, latency grows through the run and the last delivery came ${f(h.elapsedMs / 1000, 0)} s after the first broadcast (${h.broadcasts} s of broadcasts)` : `within the ${h.cores} cores per second`}. ` +
      'On loopback the clients and nginx share the server\'s cores; in production the clients are elsewhere and nginx on its own machines (see the plan).',
    '',
  );
  lines.push(...millionPlan(h), '');
  return lines;
}

/** The plan for 1,000,000 connections, computed from the measured figures. */
function millionPlan(h) {
  const target = 1_000_000;
  const memPerConn = h.rssPerConn.nodes + h.rssPerConn.nginx; // bytes, server side (Herald + proxy)
  const cpuPerDelivery = h.cpuUsPerDelivery.nodes + h.cpuUsPerDelivery.nginx; // µs, server side
  const cpuPerConnect = h.connectCpuUsPerConn.nodes + h.connectCpuUsPerConn.nginx; // µs
  const plan = (cores, gib) => {
    const usable = 0.7; // headroom: 70 % of cores and memory
    const byMem = (gib * 2 ** 30 * usable) / memPerConn;
    const byCpu = (cores * usable * 1e6) / cpuPerDelivery; // deliveries/s per machine = connections at 1 broadcast/s
    const perMachine = Math.min(byMem, byCpu);
    const n = Math.ceil(target / perMachine);
    const nodes = Math.ceil(target / n / 17000);
    const reconnectS = (target / n) * cpuPerConnect / 1e6 / (cores * usable);
    return { cores, gib, byMem, byCpu, perMachine, n, nodes, reconnectS };
  };
  const a = plan(h.cores, Math.floor(h.memoryGiB));
  const b = plan(16, 64);
  const line = (p) =>
    `machines of ${p.cores} cores / ${p.gib} GiB hold ${int(Math.min(p.byMem, p.byCpu))} connections each at 70 % use (memory allows ${int(p.byMem)}, CPU for one broadcast per second to all ${int(p.byCpu)}), so **${p.n} machines** (${p.nodes} Herald processes of ≤ 17,000 sockets each per machine, or fewer with a raised open-file limit, plus nginx workers), and a full reconnect of one machine's share costs ${f(p.reconnectS, 0)} s of its CPU`;
  return [
    '### Plan for 1,000,000 connections on N machines (from the figures above)',
    '',
    `Measured here, server side (Herald nodes + nginx): ${f(memPerConn / 1024, 2)} KiB per idle connection, ${f(cpuPerDelivery, 2)} µs of CPU per delivery (nodes ${f(h.cpuUsPerDelivery.nodes, 2)} + nginx ${f(h.cpuUsPerDelivery.nginx, 2)}), ${f(cpuPerConnect, 0)} µs per connect with JWT check. ` +
      `One broadcast per second to 1,000,000 connections is 1,000,000 deliveries/s, i.e. ${f(cpuPerDelivery, 2)} cores of CPU; their idle memory is ${f((memPerConn * target) / 2 ** 30, 1)} GiB; reconnecting all of them costs ${f((cpuPerConnect * target) / 1e6, 0)} CPU-seconds. ` +
      `With ${line(a)}. With ${line(b)}. ` +
      `CPU per delivery, not memory, decides N at one broadcast per second${a.byCpu < a.byMem ? '' : ' (not here: memory does)'}; at a lower broadcast rate memory decides. The load generator is not counted (real clients bring their own machines); Redis carries one message per broadcast per node (${h.nodes} here), and PostgreSQL one row per broadcast, so neither grows with connections. ` +
      `Not measured: cross-machine network cost (loopback here makes the kernel's share per delivery include the receiving client's TCP work, so the figures are if anything high for the server side) and a reconnect storm across machines.`,
  ];
}
