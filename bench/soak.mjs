#!/usr/bin/env node
// Soak run (issue 9; not in CI): thousands of WebSocket clients connecting, resuming (`since`)
// and disconnecting in churn while notifications flow, for a bounded time. Samples the
// server's heap and RSS (/proc/<pid>/status) every 10 s, checks at the end that
// every client's offsets per stream are gapless from its first position up to the stream
// head (nothing lost, nothing doubled), reports the memory drift (last 25 % against first
// 25 % of the samples after warm-up) and writes bench/SOAK.md. The embedded server runs with
// the V8 inspector on a loopback port: each sample forces a full collection through it
// (HeapProfiler.collectGarbage) and reads the live heap, so garbage not yet collected cannot
// pass for growth; /metrics' heap (as found, without a collection) is reported beside it.
//
//   npm run bench:soak -- --minutes 30 --clients 3000            # embedded default (SQLite, in-process broker)
//   npm run bench:soak -- --minutes 30 --clients 3000 --cluster  # 3 nodes behind nginx, private Redis, PostgreSQL
//
// Options: --minutes (30), --clients (3000), --rate (notifications/s, 20), --churn (fraction of
// the clients disconnected per second, 0.01), --warmup (seconds excluded from the drift, 60 or
// 10 % of the run), --sample (seconds, 10), --cluster, --nodes (3), --out (bench/SOAK.md).
// Only 127.0.0.1 is used; every process started is killed on exit; hard deadline = run + 5 min.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { children, freePort, killAll, rssBytes, sleep, testing } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, fallback) => {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const v = argv[i].includes('=') ? argv[i].split('=')[1] : argv[i + 1];
  return v === undefined ? fallback : Number.isNaN(Number(v)) ? v : Number(v);
};
const MINUTES = opt('minutes', 30);
const CLIENTS = opt('clients', 3000);
const RATE = opt('rate', 20);
const CHURN = opt('churn', 0.01);
const SAMPLE_S = opt('sample', 10);
const CLUSTER = flag('cluster');
const NODES = opt('nodes', 3);
const OUT = resolve(ROOT, opt('out', 'bench/SOAK.md'));
const RUN_MS = MINUTES * 60_000;
const WARMUP_MS = opt('warmup', Math.min(60, (RUN_MS / 1000) * 0.1)) * 1000;
const USERS = Math.max(1, Math.ceil(CLIENTS / 50));
const COMMAND = `npm run bench:soak -- ${argv.join(' ')}`.trim();

const log = (...a) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}]`, ...a);
const fmtMiB = (b) => (b / 2 ** 20).toFixed(1);

// ---- hard deadline and cleanup ------------------------------------------------------
const cleanups = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => undefined);
  killAll();
}
const deadline = setTimeout(async () => {
  console.error('soak: hard deadline reached, killing everything');
  await cleanup();
  process.exit(2);
}, RUN_MS + 5 * 60_000);
deadline.unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, async () => {
  await cleanup();
  process.exit(130);
});

// ---- server --------------------------------------------------------------------------
const SERVICE_KEY = `soak-${randomBytes(12).toString('hex')}`;
const ADMIN_PASSWORD = `admin-${randomBytes(8).toString('hex')}`;
const serverEnv = {
  LOG_LEVEL: 'error',
  HERALD_SERVICE_KEY: SERVICE_KEY,
  HERALD_ADMIN_PASSWORD: ADMIN_PASSWORD,
  ACCESS_TOKEN_TTL: '7d',
  LOGIN_ATTEMPTS_PER_MINUTE: '100000',
  WS_MAX_CONNECTIONS_PER_IP: String(CLIENTS * 4 + 100),
  HTTP_MAX_CONNECTIONS_PER_IP: '0',
  RESUME_ROWS_PER_MINUTE: '1000000000',
  READ_ALL_PER_MINUTE: '1000000',
  WS_MAX_CONNECTIONS_PER_USER: String(Math.ceil(CLIENTS / USERS) * 4 + 10),
  BACKEND_CORS_ORIGINS: 'http://127.0.0.1',
};

if (!CLUSTER) {
  // The embedded default: SQLite and the in-process broker.
  delete process.env.REDIS_URL;
  delete process.env.DATABASE_URL;
}
const tmp = mkdtempSync(join(tmpdir(), 'herald-soak-'));
cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));

/** { url, pids(): number[], metricsUrls: string[], inspectPort?: number } */
async function startServer() {
  if (!CLUSTER) {
    const port = await freePort();
    const inspectPort = await freePort();
    const node = await testing
      .spawnHerald({
        port,
        env: { ...process.env, ...serverEnv, HOST: '127.0.0.1', DATA_DIR: join(tmp, 'data'), JWT_SECRET: randomBytes(32).toString('hex') },
        nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`],
        logFile: join(tmp, 'herald.log'),
        readyPath: '/readyz',
        onSpawn: (child) => {
          children.add(child);
          child.on('exit', (code, signal) => log(`herald exited: code ${code} signal ${signal} (log: ${join(tmp, 'herald.log')})`));
        },
      })
      .catch((error) => {
        throw new Error(`herald did not start (log: ${join(tmp, 'herald.log')}): ${error.message}`);
      });
    cleanups.push(() => node.stop());
    return { mode: 'embedded (SQLite, in-process broker)', url: node.url, pids: () => [node.pid], metricsUrls: [node.url], inspectPort };
  }
  const schema = await testing.freshPostgresSchema(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  cleanups.push(() => schema.drop());
  const redis = await new testing.RedisServer(0).start();
  children.add(redis.proc);
  cleanups.push(() => redis.stop());
  const cluster = await testing.startCluster({ nodes: NODES, port: 0, redisUrl: redis.url, databaseUrl: schema.url, env: { ...serverEnv, TRUST_PROXY: 'true' }, dir: join(tmp, 'cluster') });
  cleanups.push(() => cluster.stop());
  return {
    mode: `cluster: ${NODES} nodes behind nginx, Redis, PostgreSQL`,
    url: cluster.url,
    pids: () => cluster.nodes.filter((n) => n.running).map((n) => n.proc.pid),
    metricsUrls: cluster.nodes.map((n) => n.url),
  };
}

async function api(url, path, { method = 'POST', body, token } = {}) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

// ---- clients -------------------------------------------------------------------------
class SoakClient {
  constructor(index, user) {
    this.index = index;
    this.user = user;
    this.pos = new Map(); // stream -> last offset seen (starts at the head of the first connect)
    this.first = new Map();
    this.gaps = 0;
    this.dups = 0;
    this.received = 0;
    this.resyncs = 0;
    this.errors = 0;
    this.connects = 0;
    this.ws = undefined;
    this.open = false;
    this.wanted = true;
    this.closes = {};
  }

  connect(wsBase) {
    this.wanted = true;
    const since = [...this.pos].map(([s, o]) => `${s}@${o}`).join(',');
    const url = `${wsBase}/api/v1/ws?token=${this.user.token}${since ? `&since=${encodeURIComponent(since)}` : ''}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.connects++;
    // Frames of a socket we already left are ignored: the resume replays them.
    ws.on('message', (data) => this.ws === ws && this.#onMessage(String(data)));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.open = false;
      this.ws = undefined;
      this.closes[code] = (this.closes[code] ?? 0) + 1;
      // An unexpected close (not ours): reconnect after a short backoff and resume.
      if (this.wanted) setTimeout(() => this.wanted && !this.ws && this.connect(wsBase), 500 + Math.random() * 1500);
    });
  }

  disconnect() {
    this.wanted = false;
    const ws = this.ws;
    this.ws = undefined;
    this.open = false;
    ws?.close(1000);
  }

  #onMessage(text) {
    if (text === 'pong') return;
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this.errors++;
      return;
    }
    if (m.type === 'connected') {
      this.open = true;
      if (this.pos.size === 0) for (const [s, o] of Object.entries(m.streams ?? {})) {
        this.pos.set(s, o);
        this.first.set(s, o);
      }
    } else if (m.type === 'system_message' && typeof m.offset === 'number') {
      this.received++;
      const last = this.pos.get(m.stream);
      if (last === undefined) {
        this.errors++;
        return;
      }
      if (m.offset <= last) this.dups++;
      else {
        if (m.offset > last + 1) this.gaps += m.offset - last - 1;
        this.pos.set(m.stream, m.offset);
      }
    } else if (m.type === 'resync_required') this.resyncs++;
    else if (m.type === 'error') this.errors++;
  }
}

// ---- metrics -------------------------------------------------------------------------
async function heapBytes(urls) {
  let used = 0;
  let total = 0;
  for (const url of urls) {
    try {
      const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
      const read = (name) => Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1] ?? 0);
      used += read('herald_process_nodejs_heap_size_used_bytes');
      total += read('herald_process_nodejs_heap_size_total_bytes');
    } catch {
      /* a node that does not answer counts 0 */
    }
  }
  return { used, total };
}

/** A DevTools-protocol session with the server's V8 inspector (loopback only). */
async function inspector(port) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextId = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const reply = JSON.parse(String(data));
    waiting.get(reply.id)?.(reply);
    waiting.delete(reply.id);
  });
  const call = (method) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 30_000);
      waiting.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply.result);
      });
      ws.send(JSON.stringify({ id, method }));
    });
  return {
    /** Heap used by live objects: after a full, forced collection. */
    async liveHeapBytes() {
      await call('HeapProfiler.collectGarbage');
      return (await call('Runtime.getHeapUsage')).usedSize;
    },
    close: () => ws.close(),
  };
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

// ---- run -----------------------------------------------------------------------------
async function main() {
  const startedAt = Date.now();
  const server = await startServer();
  const wsBase = server.url.replace('http', 'ws');
  log(`${server.mode} at ${server.url}; ${CLIENTS} clients over ${USERS} users, ${RATE} notifications/s, churn ${CHURN * 100}%/s, ${MINUTES} min`);

  const adminToken = (await api(server.url, '/api/v1/auth/login', { body: { username: 'admin', password: ADMIN_PASSWORD } })).access_token;
  const users = [];
  for (let i = 0; i < USERS; i++) {
    const password = `soak-password-${i}`;
    const created = await api(server.url, '/api/v1/users', { body: { username: `soak${i}`, password }, token: adminToken });
    const token = (await api(server.url, '/api/v1/auth/login', { body: { username: `soak${i}`, password } })).access_token;
    users.push({ id: Number(created.id), token });
  }
  log(`${USERS} users created`);
  const clients = Array.from({ length: CLIENTS }, (_, i) => new SoakClient(i, users[i % USERS]));
  for (let i = 0; i < clients.length; i += 100) {
    for (const c of clients.slice(i, i + 100)) c.connect(wsBase);
    await sleep(100);
  }
  for (let i = 0; i < 600 && clients.some((c) => !c.open); i++) await sleep(100);
  log(`${clients.filter((c) => c.open).length}/${CLIENTS} connected after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

  // Producer: `RATE` notifications a second, half to everyone, half to one user.
  const heads = new Map();
  const producer = { sent: 0, acked: 0, failed: 0, inflight: 0, n: 0 };
  const produce = async () => {
    if (producer.inflight >= 32) return;
    producer.inflight++;
    const n = ++producer.n;
    const target = n % 2 === 0 ? 'all' : users[Math.floor(Math.random() * users.length)].id;
    producer.sent++;
    try {
      const res = await fetch(`${server.url}/api/v1/notifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json', 'idempotency-key': `soak-${n}` },
        body: JSON.stringify({ message: `soak ${n}`, target }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.json();
      if (res.status === 202) {
        producer.acked++;
        heads.set(body.stream, Math.max(heads.get(body.stream) ?? 0, body.offset));
      } else producer.failed++;
    } catch {
      producer.failed++;
    } finally {
      producer.inflight--;
    }
  };
  const produceTimer = setInterval(() => void produce(), 1000 / RATE);

  // Churn: every second a fraction of the connected clients leaves and comes back 0.5–5 s later with `since`.
  let churned = 0;
  const churnTimer = setInterval(() => {
    const open = clients.filter((c) => c.open);
    const k = Math.max(1, Math.round(CLIENTS * CHURN));
    for (let i = 0; i < k && open.length > 0; i++) {
      const c = open.splice(Math.floor(Math.random() * open.length), 1)[0];
      c.disconnect();
      churned++;
      setTimeout(() => !c.ws && c.connect(wsBase), 500 + Math.random() * 4500);
    }
  }, 1000);

  const samples = [];
  const runStart = Date.now();
  const gc = server.inspectPort ? await inspector(server.inspectPort) : undefined;
  if (gc) cleanups.push(() => gc.close());
  const sample = async () => {
    const heap = await heapBytes(server.metricsUrls);
    const liveHeap = gc ? await gc.liveHeapBytes() : NaN;
    const rss = server.pids().reduce((s, pid) => s + rssBytes(pid), 0);
    const s = {
      t: Math.round((Date.now() - runStart) / 1000),
      heapUsed: heap.used,
      heapTotal: heap.total,
      liveHeap,
      rss,
      open: clients.filter((c) => c.open).length,
      received: clients.reduce((a, c) => a + c.received, 0),
      acked: producer.acked,
      churned,
    };
    samples.push(s);
    log(`t=${s.t}s heap ${fmtMiB(s.heapUsed)}/${fmtMiB(s.heapTotal)} MiB live ${fmtMiB(s.liveHeap)} MiB rss ${fmtMiB(s.rss)} MiB open ${s.open} acked ${s.acked} received ${s.received} churned ${churned}`);
  };
  await sample();
  while (Date.now() - runStart < RUN_MS) {
    await sleep(Math.min(SAMPLE_S * 1000, RUN_MS - (Date.now() - runStart)));
    await sample();
  }

  // Wind down: no more churn or notifications; every client back and caught up to the heads.
  clearInterval(churnTimer);
  clearInterval(produceTimer);
  while (producer.inflight > 0) await sleep(50);
  await sleep(6000); // the last churned clients come back
  for (const c of clients) if (!c.ws) c.connect(wsBase);
  const behind = () => clients.reduce((a, c) => a + [...heads].reduce((b, [s, h]) => b + (c.pos.has(s) ? Math.max(0, h - c.pos.get(s)) : 0), 0), 0);
  const settleStart = Date.now();
  while (Date.now() - settleStart < 60_000 && (behind() > 0 || clients.some((c) => !c.open))) await sleep(200);
  const settleMs = Date.now() - settleStart;

  const lostBehind = behind();
  const gaps = clients.reduce((a, c) => a + c.gaps, 0);
  const dups = clients.reduce((a, c) => a + c.dups, 0);
  const resyncs = clients.reduce((a, c) => a + c.resyncs, 0);
  const errors = clients.reduce((a, c) => a + c.errors, 0);
  const received = clients.reduce((a, c) => a + c.received, 0);
  const connects = clients.reduce((a, c) => a + c.connects, 0);
  const closes = {};
  for (const c of clients) for (const [code, n] of Object.entries(c.closes)) closes[code] = (closes[code] ?? 0) + n;
  // Expected deliveries: for every client and stream, head - first position.
  const expected = clients.reduce((a, c) => a + [...heads].reduce((b, [s, h]) => b + (c.first.has(s) ? Math.max(0, h - c.first.get(s)) : 0), 0), 0);
  const open = clients.filter((c) => c.open).length;

  const after = samples.filter((s) => s.t * 1000 >= WARMUP_MS);
  const q = Math.max(1, Math.floor(after.length / 4));
  const firstQ = after.slice(0, q);
  const lastQ = after.slice(-q);
  const drift = (key) => {
    const a = mean(firstQ.map((s) => s[key]));
    const b = mean(lastQ.map((s) => s[key]));
    return { first: a, last: b, delta: b - a, pct: ((b - a) / a) * 100 };
  };
  const heapDrift = drift('heapUsed');
  const liveDrift = drift('liveHeap');
  const rssDrift = drift('rss');
  for (const c of clients) c.disconnect();
  await cleanup();

  // The bound the soak holds the server to: live heap and RSS within 10 % between the first
  // and last quarter after warm-up (a leak of a few hundred bytes per connect fails it).
  const BOUND_PCT = 10;
  const bounded = (gc ? liveDrift.pct <= BOUND_PCT : true) && rssDrift.pct <= BOUND_PCT;
  const ok = lostBehind === 0 && gaps === 0 && dups === 0 && bounded;
  const row = (d) => `${fmtMiB(d.first)} MiB → ${fmtMiB(d.last)} MiB (${d.delta >= 0 ? '+' : ''}${fmtMiB(d.delta)} MiB, ${d.pct >= 0 ? '+' : ''}${d.pct.toFixed(1)} %)`;
  const md = [
    '# Herald soak run',
    '',
    `Command: \`${COMMAND}\``,
    '',
    ...(MINUTES < 30 ? [`**A ${MINUTES}-minute run, not the 30-minute soak** (\`npm run bench:soak -- --minutes 30 --clients 3000\`).`, ''] : []),
    `Written by \`bench/soak.mjs\` on ${new Date().toISOString()}: ${MINUTES} min, ${server.mode}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${fmtMiB(totalmem())} MiB RAM, Node ${process.version}; load generator in the same process on the same machine (loopback only).`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| result | ${ok ? `**pass**: nothing lost, nothing duplicated, memory within ${BOUND_PCT} %` : '**FAIL**'} |`,
    `| duration | ${MINUTES} min of churn (+ ${(settleMs / 1000).toFixed(1)} s to settle) |`,
    `| clients | ${CLIENTS} over ${USERS} users; ${open} connected at the end |`,
    `| connects (incl. resumes with \`since\`) | ${connects} (${churned} churned by the run, close codes seen ${JSON.stringify(closes)}) |`,
    `| notifications published | ${producer.sent} sent, ${producer.acked} acknowledged (202), ${producer.failed} failed |`,
    `| deliveries | ${received} received, ${expected} expected (every client, every stream, from its first position to the head) |`,
    `| lost | ${gaps} gaps during the run + ${lostBehind} still behind the heads after settling = **${gaps + lostBehind}** |`,
    `| duplicated | **${dups}** |`,
    `| resync_required / errors | ${resyncs} / ${errors} |`,
    ...(gc ? [`| live heap after a forced full GC, first 25 % → last 25 % after ${WARMUP_MS / 1000} s warm-up (bound: +${BOUND_PCT} %) | ${row(liveDrift)} |`] : []),
    `| heap used as found (server${CLUSTER ? 's, summed' : ''}, no forced GC), same windows | ${row(heapDrift)} |`,
    `| RSS (server${CLUSTER ? 's, summed' : ''}), same windows (bound: +${BOUND_PCT} %) | ${row(rssDrift)} |`,
    '',
    `Samples every ${SAMPLE_S} s:`,
    '',
    '| t (s) | live heap after GC (MiB) | heap used as found (MiB) | heap total (MiB) | RSS (MiB) | clients open | acknowledged | deliveries | churned |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...samples.map((s) => `| ${s.t} | ${gc ? fmtMiB(s.liveHeap) : 'n/a'} | ${fmtMiB(s.heapUsed)} | ${fmtMiB(s.heapTotal)} | ${fmtMiB(s.rss)} | ${s.open} | ${s.acked} | ${s.received} | ${s.churned} |`),
    '',
  ].join('\n');
  writeFileSync(OUT, md);
  log(`wrote ${OUT}: lost ${gaps + lostBehind}, duplicated ${dups}, live heap ${gc ? row(liveDrift) : 'n/a'}, rss ${row(rssDrift)}`);
  process.exit(ok ? 0 : 1);
}

main().catch(async (error) => {
  console.error(error);
  await cleanup();
  process.exit(1);
});
