#!/usr/bin/env node
// Herald's benchmark suite (issue 8). `node bench/run.mjs` (quick, < 3 min) or `--full`.
// Options: --targets=herald,ws,sio,nchan  --scenarios=fanout,cluster,hundredk,hop,resume,slow,inject  --out=bench/RESULTS.md
// Headline figures publish the way producers do (HTTP with the service key) and clients get their
// tokens the way users do (Herald: POST /api/v1/auth/login; the references: `herald token`).
// `inject` (secondary) writes straight into the broker channel, a path no producer takes.
// Only loopback addresses are used; every child process is killed on exit; the run has a hard deadline.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CORES, options, children, countSyscalls, cpuSplitUs, cpuUs, deliveryFigures, freePort, killAll, mergeStats, now, rssBytes, sleep, start, stop, sum, testing, waitForPort, watch, withChildren, wrapperFor } from './lib.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const opt = (name, fallback) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const FULL = argv.includes('--full');
// --nice=-10: run servers, load generator and Redis at a higher priority than whatever else
// shares the machine (root only), so wall-clock figures (latency, rates) measure the servers.
options.nice = Number(opt('nice', '0'));
if (options.nice !== 0) os.setPriority(options.nice);
const TARGETS = opt('targets', FULL ? 'herald,herald-pg,ws,sio,nchan' : 'herald,ws,sio,nchan').split(',');
const SCENARIOS = opt('scenarios', FULL ? 'fanout,writedelay,cluster,hop,resume,slow,durable,inject' : 'fanout,resume').split(',');
const OUT = resolve(ROOT, opt('out', 'bench/RESULTS.md'));
const SERVER_CORE = 0;
const LOAD_CORE = CORES > 1 ? 1 : undefined;
const WORKERS = 4;
const ADDRS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];

const P = FULL
  ? { big: 10000, small: 1000, connConc: 50, rateSmall: 50, secsSmall: 10, burstSmall: 1000, rateBig: 5, secsBig: 10, burstBig: 100, batch: 10, lingerMs: 100, publishCost: 400, storm: 10000, stormMsgs: [50, 50, 50], hopClients: 100, hopRate: 20, hopSecs: 5 }
  : { big: 4000, small: 1000, connConc: 50, rateSmall: 50, secsSmall: 4, burstSmall: 200, rateBig: 10, secsBig: 2, burstBig: 50, batch: 10, lingerMs: 100, publishCost: 200, storm: 1000, stormMsgs: [20, 20, 20], hopClients: 100, hopRate: 20, hopSecs: 5 };
for (const k of Object.keys(P)) if (opt(k) !== undefined && k !== 'stormMsgs') P[k] = Number(opt(k)); // e.g. --big=2000 for a smoke run

const JWT_SECRET = randomBytes(32).toString('hex');
const SERVICE_KEY = randomBytes(16).toString('hex');
const ADMIN_PASSWORD = `bench-admin-${randomBytes(6).toString('hex')}`;
const TMP = mkdtempSync(join(os.tmpdir(), 'herald-bench-'));
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`, ...a);

// ---------- lifecycle: everything we start dies with us ----------
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  killAll();
  if (!argv.includes('--keep-tmp')) rmSync(TMP, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
process.on('uncaughtException', (e) => {
  console.error(e);
  process.exit(1);
});
process.on('unhandledRejection', (e) => {
  console.error(e);
  process.exit(1);
});
const deadline = setTimeout(() => {
  console.error(`bench: hard deadline reached (${FULL ? 30 : 5} min); stopping`);
  process.exit(2);
}, (FULL ? 30 : 5) * 60_000);
deadline.unref();

// ---------- prerequisites ----------
function ensureNginx() {
  const so = '/usr/lib/nginx/modules/ngx_nchan_module.so';
  if (existsSync('/usr/sbin/nginx') && existsSync(so)) return so;
  log('installing nginx-light and libnginx-mod-nchan from Debian');
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const r = spawnSync('apt-get', ['install', '-y', 'nginx-light', 'libnginx-mod-nchan'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0 || !existsSync(so)) throw new Error('could not install nginx + nchan');
  // Debian starts a system nginx on install; we never use it, and stop it so port 80 stays free.
  spawnSync('sh', ['-c', 'command -v service >/dev/null && service nginx stop || true']);
  return so;
}

function ensureRedisBinary() {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status === 0) return;
  log('installing redis-server from Debian');
  spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  spawnSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function versions() {
  const v = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim();
    } catch (e) {
      return (e.stderr?.toString() ?? '').trim() || 'n/a';
    }
  };
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [ROOT, join(ROOT, 'packages/server')] }), 'utf8')).version;
    } catch {
      return 'n/a';
    }
  };
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  let herald = 'n/a';
  try {
    herald = `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version} @ ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim()}${execFileSync('git', ['status', '--porcelain', 'packages/server/src'], { cwd: ROOT }).toString().trim() ? ' (+ uncommitted server changes)' : ''}`;
  } catch {
    /* not a git checkout */
  }
  return {
    cpu,
    cores: CORES,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: os.release(),
    node: process.version,
    herald,
    ws: pkg('ws'),
    'socket.io': pkg('socket.io'),
    nginx: v('sh', ['-c', 'nginx -v 2>&1']).replace('nginx version: ', ''),
    nchan: v('dpkg-query', ['-W', '-f=${Version}', 'libnginx-mod-nchan']),
    redis: v('redis-server', ['--version']).split(' ').find((s) => s.startsWith('v='))?.slice(2) ?? 'n/a',
    'open files per process': v('sh', ['-c', 'ulimit -n']),
  };
}

// ---------- load generator ----------
class Worker {
  constructor(i) {
    this.proc = start(`worker${i}`, process.execPath, [join(ROOT, 'bench/worker.mjs')], { core: LOAD_CORE, logDir: TMP, ipc: true });
    this.seq = 0;
    this.waiting = new Map();
    this.proc.on('message', ({ id, reply }) => {
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.(reply);
    });
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.values()) w({ error: `worker exited (${code})` });
      this.waiting.clear();
    });
  }
  rpc(msg) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (reply) => (reply?.error ? reject(new Error(reply.error)) : resolve(reply)));
      this.proc.send({ ...msg, id });
    });
  }
}

class Load {
  constructor(n = WORKERS) {
    this.workers = Array.from({ length: n }, (_, i) => new Worker(i));
  }
  pids() {
    return this.workers.map((w) => w.proc.pid);
  }
  all(msg, per) {
    return Promise.all(this.workers.map((w, i) => w.rpc(per ? { ...msg, ...per(i) } : msg)));
  }
  /** `tokens`: one per client (each worker gets its own share), so the server verifies every one. */
  async init(target, trackOffset = false, tokens = []) {
    const n = this.workers.length;
    await this.all({ cmd: 'init', target, trackOffset }, (i) => ({ addrs: [ADDRS[i % ADDRS.length]], tokens: tokens.filter((_, j) => j % n === i) }));
  }
  /** Opens n clients spread evenly over the workers (and so over their source addresses). */
  async connect(n, concurrency) {
    const share = (i) => Math.floor(n / this.workers.length) + (i < n % this.workers.length ? 1 : 0);
    const replies = await this.all({ cmd: 'connect', concurrency }, (i) => ({ n: share(i) }));
    return { ok: sum(replies.map((r) => r.ok)), failed: sum(replies.map((r) => r.failed)) };
  }
  async stats() {
    return mergeStats(await this.all({ cmd: 'stats' }));
  }
  async exit() {
    await Promise.all(this.workers.map((w) => w.rpc({ cmd: 'exit' }).catch(() => undefined)));
    await Promise.all(this.workers.map((w) => stop(w.proc, 'SIGKILL', 1000)));
  }
}

// ---------- tokens and payloads ----------
/** Herald's clients sign in like a user of the console: POST /api/v1/auth/login (the bootstrapped admin). */
async function login(port) {
  const r = await httpRequest(port, 'POST', '/api/v1/auth/login', JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }));
  if (r.status !== 200) throw new Error(`POST /api/v1/auth/login: ${r.status} ${r.body}`);
  return JSON.parse(r.body);
}

/**
 * Distinct access tokens of the administrator, as many sessions would hold: the sign-in's
 * refresh token exchanged `n` times (`POST /api/v1/auth/refresh`, each refresh token works
 * once). Every client connects with its own, so no server skips a verification because it
 * has seen the token before. They are signed with the run's JWT_SECRET (HS256, `sub` the
 * admin's id, `exp`): every Herald of the run (whose first user is the same administrator)
 * and the references verify them.
 */
async function mintTokens(port, n, chains = 4) {
  const tokens = [];
  const chain = async () => {
    let { refresh_token: refresh } = await login(port);
    while (tokens.length < n) {
      const r = await httpRequest(port, 'POST', '/api/v1/auth/refresh', JSON.stringify({ refresh_token: refresh }));
      if (r.status !== 200) throw new Error(`POST /api/v1/auth/refresh: ${r.status} ${r.body}`);
      const pair = JSON.parse(r.body);
      if (tokens.length < n) tokens.push(pair.access_token);
      refresh = pair.refresh_token;
    }
  };
  await Promise.all(Array.from({ length: chains }, chain));
  return tokens;
}

/** One token per client of the fan-out suite (minted once per run by a scratch Herald on the load core). */
let tokenPool = [];
async function prepareTokens(n) {
  // Its sign-in limits raised (LOGIN_ATTEMPTS_PER_MINUTE: refreshes get 6× it): one client exchanges thousands.
  const node = await startHerald({ name: 'token-issuer', extraEnv: { REDIS_URL: '', LOGIN_ATTEMPTS_PER_MINUTE: '100000' }, core: LOAD_CORE });
  try {
    const started = Date.now();
    tokenPool = await mintTokens(node.port, n);
    log(`minted ${tokenPool.length} access tokens in ${Date.now() - started} ms`);
  } finally {
    await node.stop();
  }
}
const subjectOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;

/**
 * The references verify a token that Herald issued: `herald user add` + `herald token` (the CLI
 * an operator uses) against a scratch data directory with the shared JWT_SECRET.
 */
let referenceToken;
function tokenForReferences() {
  if (referenceToken) return referenceToken;
  const env = { ...process.env, DATA_DIR: join(TMP, 'token-issuer'), JWT_SECRET, DATABASE_URL: '', REDIS_URL: '', LOG_LEVEL: 'warn' };
  const added = testing.heraldCli(['user', 'add', 'bench', '--password', 'bench-password-1', '--admin'], env);
  if (added.status !== 0) throw new Error(`herald user add: ${added.stderr}`);
  const issued = testing.heraldCli(['token', 'bench', '--ttl', '2h'], env);
  if (issued.status !== 0) throw new Error(`herald token: ${issued.stderr}`);
  referenceToken = issued.stdout.trim();
  return referenceToken;
}

/** `#B<seq>:<µs>#`: the sequence number and the time the message was due (now, or when a batching producer had it). */
const marker = (seq, pad, at = now()) => `#B${seq}:${Math.round(at * 1000)}#${pad}`;
/** One message as the references and broker injection carry it: JSON bytes in Herald's ephemeral progress shape. */
const progressPayload = (seq, pad = '') => `{"type":"transcode_progress","video_id":1,"status":"processing","progress":1,"message":"${marker(seq, pad)}"}`;

/** What a producer sends Herald: a system_message to the admins (validated, stored, then fanned out). */
async function postNotification(port, seq, pad = '', { headers = {}, at } = {}) {
  const body = JSON.stringify({ message: marker(seq, pad, at), level: 'info', target: 'admin' });
  const r = await httpRequest(port, 'POST', '/api/v1/notifications', body, { authorization: `Bearer ${SERVICE_KEY}`, ...headers });
  if (r.status !== 202) throw new Error(`POST /api/v1/notifications: ${r.status} ${r.body}`);
}

/**
 * A batching producer: one `POST /api/v1/events` carrying several system_messages to the
 * admins (one transaction, then fanned out in order). `items`: [seq, time the event was due].
 */
async function postEvents(port, items, pad = '') {
  const body = JSON.stringify(items.map(([seq, at]) => ({ type: 'system_message', target: 'admin', level: 'info', message: marker(seq, pad, at) })));
  const r = await httpRequest(port, 'POST', '/api/v1/events', body, { authorization: `Bearer ${SERVICE_KEY}` });
  if (r.status !== 202) throw new Error(`POST /api/v1/events: ${r.status} ${r.body}`);
}

/** A reference server's publish endpoint: POST /publish, the body broadcast as it is. */
async function postPublish(port, payload) {
  const r = await httpRequest(port, 'POST', '/publish', payload);
  if (r.status !== 204) throw new Error(`POST /publish: ${r.status} ${r.body}`);
}

// ---------- targets ----------
let redisUrl;
let pub;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function httpRequest(port, method, path, body, headers = {}, retried = false) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (error) => {
      // A kept-alive socket the server closed just as we reused it: the request never reached
      // the server, so sending it again on a new socket cannot duplicate it (Node's documented remedy).
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') resolve(httpRequest(port, method, path, body, headers, true));
      else reject(error);
    });
    req.end(body);
  });
}

function heraldEnv(port, dataDir, extra = {}) {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    JWT_SECRET,
    HERALD_SERVICE_KEY: SERVICE_KEY,
    HERALD_ADMIN_PASSWORD: ADMIN_PASSWORD,
    ACCESS_TOKEN_TTL: '2h',
    WS_MAX_CONNECTIONS_PER_IP: '1000000',
    // The load generator is one address reconnecting thousands of sockets and resuming: no per-address or per-user work caps.
    HTTP_MAX_CONNECTIONS_PER_IP: '0',
    RESUME_ROWS_PER_MINUTE: '1000000000',
    READ_ALL_PER_MINUTE: '1000000',
    WS_MAX_CONNECTIONS_PER_USER: '100000',
    WS_SEND_BUFFER_BYTES: String(64 * 1024 * 1024),
    ...extra,
  };
}

async function startHerald({ name = 'herald', extraEnv = {}, dataDir, core = SERVER_CORE, label = 'Herald', kind = 'herald' } = {}) {
  const port = await freePort();
  const dir = dataDir ?? join(TMP, `${name}-${port}`);
  mkdirSync(dir, { recursive: true });
  const prefix = extraEnv.REDIS_PREFIX ?? `bench${randomBytes(4).toString('hex')}:`;
  const env = heraldEnv(port, dir, { REDIS_URL: redisUrl, REDIS_PREFIX: prefix, ...extraEnv });
  // BENCH_PROFILE=<dir>: a CPU profile of every Herald process; BENCH_NODE_ARGS: more Node flags (e.g. --trace-gc).
  const nodeArgs = [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
  const node = await testing.spawnHerald({
    port,
    env: { ...process.env, ...env },
    nodeArgs,
    wrapper: wrapperFor(core),
    logFile: join(TMP, `${name}.log`),
    onSpawn: (child) => watch(name, child, TMP),
  });
  const token = (await login(port)).access_token;
  if (tokenPool.length > 0 && subjectOf(tokenPool[0]) !== subjectOf(token)) throw new Error(`${name}: its administrator is not the token pool's (sub ${subjectOf(token)})`);
  return {
    label,
    kind,
    port,
    env,
    node,
    pids: () => [node.pid],
    client: { kind: 'herald', url: `ws://127.0.0.1:${port}/api/v1/ws/admin?token=${token}` },
    publish: (seq, pad) => postNotification(port, seq, pad),
    publishBatch: (items, pad) => postEvents(port, items, pad),
    inject: env.REDIS_URL ? (seq, pad) => pub.publish(`${prefix}herald:admins`, progressPayload(seq, pad)) : undefined,
    stop: () => {
      if (node.proc) node.proc.expectedExit = true;
      return node.stop('SIGTERM', 5000);
    },
  };
}

async function startNodeRef(kind) {
  const port = await freePort();
  const channel = `bench${randomBytes(4).toString('hex')}:bench`;
  const script = kind === 'ws' ? 'ws-broadcast.mjs' : 'socketio.mjs';
  const proc = start(kind, process.execPath, [join(ROOT, 'bench/servers', script)], {
    env: { PORT: String(port), JWT_SECRET, REDIS_URL: redisUrl, BENCH_CHANNEL: channel },
    core: SERVER_CORE,
    logDir: TMP,
  });
  await waitForPort(port);
  await sleep(300); // its Redis subscription
  const token = tokenForReferences();
  return {
    label: kind === 'ws' ? 'bare ws' : 'Socket.IO',
    kind,
    port,
    proc,
    pids: () => [proc.pid],
    client:
      kind === 'ws'
        ? { kind: 'ws', url: `ws://127.0.0.1:${port}/?token=${token}` }
        : { kind: 'sio', url: `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`, token },
    publish: (seq, pad) => postPublish(port, progressPayload(seq, pad)),
    inject: (seq, pad) => pub.publish(channel, progressPayload(seq, pad)),
    stop: () => stop(proc),
  };
}

async function startNchan() {
  const so = ensureNginx();
  const port = await freePort();
  const dir = join(TMP, `nginx-${port}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = `load_module ${so};
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 19000;
events { worker_connections 18000; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body; proxy_temp_path ${dir}/tmp/proxy; fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi; scgi_temp_path ${dir}/tmp/scgi;
  nchan_shared_memory_size 256M;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location = /pub { nchan_publisher; nchan_channel_id admins; nchan_message_buffer_length 16; nchan_message_timeout 30s; }
    location = /sub { nchan_subscriber websocket; nchan_channel_id admins; nchan_subscriber_first_message newest; }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = start('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { core: SERVER_CORE, logDir: TMP });
  await waitForPort(port);
  await sleep(200);
  return {
    label: 'Nchan',
    kind: 'nchan',
    port,
    proc,
    pids: () => withChildren(proc.pid),
    client: { kind: 'nchan', url: `ws://127.0.0.1:${port}/sub` },
    publish: (seq, pad) => httpRequest(port, 'POST', '/pub', progressPayload(seq, pad), { 'content-type': 'text/plain' }),
    stop: () => stop(proc, 'SIGQUIT'),
  };
}

/** Herald as `npm start` runs it: SQLite and the in-process broker (the headline target). */
const startHeraldEmbedded = () => startHerald({ name: 'herald', extraEnv: { REDIS_URL: '' }, label: 'Herald (SQLite)' });

/** Herald as a cluster node runs: PostgreSQL (a fresh database, dropped after) and the Redis broker. */
async function startHeraldPg() {
  const db = await testing.freshPostgresDatabase(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  if (!db) throw new Error('herald-pg: no PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test)');
  const t = await startHerald({ name: 'herald-pg', extraEnv: { DATABASE_URL: db.url }, label: 'Herald (PostgreSQL + Redis)', kind: 'herald-pg' });
  return { ...t, stop: async () => (await t.stop(), await db.drop().catch(() => undefined)) };
}

/** Herald with its clients on the SSE endpoint (`/api/v1/sse/admin`): the fallback transport, same server. */
async function startHeraldSse() {
  const t = await startHerald({ name: 'herald-sse', extraEnv: { REDIS_URL: '' } });
  const token = new URL(t.client.url).searchParams.get('token');
  return { ...t, label: 'Herald (SSE)', kind: 'herald-sse', client: { kind: 'herald-sse', url: `http://127.0.0.1:${t.port}/api/v1/sse/admin?token=${token}` } };
}

const STARTERS = { herald: startHeraldEmbedded, 'herald-pg': startHeraldPg, 'herald-sse': startHeraldSse, nchan: startNchan, ws: () => startNodeRef('ws'), sio: () => startNodeRef('sio') };
const startTarget = (kind) => {
  if (!STARTERS[kind]) throw new Error(`unknown target ${kind}: one of ${Object.keys(STARTERS).join(', ')}`);
  return STARTERS[kind]();
};

// ---------- measurements ----------
let nextSeq = 1;
const serverCpu = (t) => sum(t.pids().map(cpuUs));
const serverKernelCpu = (t) => sum(t.pids().map((pid) => cpuSplitUs(pid).kernel));
const serverRss = (t) => sum(t.pids().map(rssBytes));

async function waitDelivered(load, expected, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const p = await load.all({ cmd: 'progress' });
    const got = sum(p.map((r) => r.received));
    if (got >= expected || Date.now() > end) return got;
    await sleep(50);
  }
}

/**
 * Publishes `n` messages (at `rate`/s, or back to back when rate is 0) and waits until every
 * armed client has them all; returns delivery counts, latency percentiles and CPU per delivery.
 */
async function fanOut(t, load, { n, rate, pad = '', via = 'http', batch = 1 }) {
  // `http`: the target's publish API, as a producer sends (headline); `broker`: straight into
  // the broker channel (secondary: no HTTP, no validation, no durable write).
  const send = via === 'broker' ? t.inject : t.publish;
  if (!send) throw new Error(`${t.label} cannot publish via ${via}`);
  if (batch > 1 && !t.publishBatch) throw new Error(`${t.label} has no batch publish`);
  // Warm-up, not measured: a few messages (sequence 0: clients count them as stale) and a pause,
  // so the phase does not pay for work left over from the previous one (GC after connecting).
  for (let i = 0; i < 3; i++) await send(0, pad);
  await sleep(1500);
  const base = nextSeq;
  nextSeq += n;
  await load.all({ cmd: 'arm', base, count: n });
  const armed = (await load.stats()).armed;
  const expected = armed * n;
  const syscalls = await countSyscalls(t.pids());
  const cpu0 = serverCpu(t);
  const kernel0 = serverKernelCpu(t);
  const loadCpu0 = sum(load.pids().map(cpuUs));
  const start = now();
  const pending = [];
  // batch > 1: a batching producer. At a fixed rate it posts every `batch` events, each stamped
  // with the time it was due (so its latency includes the wait for the batch); as fast as
  // possible, back-to-back requests of `batch` events.
  for (let i = 0; i < n; ) {
    const k = Math.min(batch, n - i);
    const due = (j) => start + (j * 1000) / rate;
    if (rate > 0) {
      const wait = due(i + k - 1) - now();
      if (wait > 1) await sleep(wait);
    }
    if (batch > 1) pending.push(t.publishBatch(Array.from({ length: k }, (_, j) => [base + i + j, rate > 0 ? due(i + j) : now()]), pad));
    else pending.push(send(base + i, pad));
    i += k;
    if (pending.length >= Math.max(8, 256 / batch)) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const published = now();
  await waitDelivered(load, expected, Math.min(60000, Math.max(20000, expected / 5)));
  const s = await load.stats();
  const elapsedMs = Math.max(s.lastRecvAt, published) - start;
  const cpu = serverCpu(t) - cpu0;
  const kernel = serverKernelCpu(t) - kernel0;
  const loadCpu = sum(load.pids().map(cpuUs)) - loadCpu0;
  const syscallCount = await syscalls();
  return {
    clients: armed,
    messages: n,
    via,
    batch,
    syscallsPerDelivery: syscallCount / Math.max(1, s.received),
    rate: rate || 'max',
    expected,
    ...deliveryFigures(s),
    elapsedMs,
    deliveriesPerSec: (s.received / elapsedMs) * 1000,
    cpuUsPerDelivery: cpu / Math.max(1, s.received),
    userUsPerDelivery: (cpu - kernel) / Math.max(1, s.received),
    kernelUsPerDelivery: kernel / Math.max(1, s.received),
    serverCoreUse: cpu / 1000 / elapsedMs,
    loadCoreUse: loadCpu / 1000 / elapsedMs,
    rssMiB: serverRss(t) / 2 ** 20,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ')[0],
    closes: JSON.stringify(s.closes),
    ready: s.ready,
  };
}

/**
 * The fixed cost of one publish on the target's HTTP path with nobody subscribed: `n` requests,
 * 8 in flight, server CPU ÷ n (HTTP parse, auth, validation, JSON, the durable write, the broker).
 */
async function publishCost(t, n) {
  const seqs = Array.from({ length: n }, () => 0); // sequence 0: nobody counts them
  let next = 0;
  const lane = async () => {
    while (next < seqs.length) await t.publish(seqs[next++], '');
  };
  for (let i = 0; i < 20; i++) await t.publish(0, ''); // warm-up (JIT, statement caches)
  const syscalls = await countSyscalls(t.pids());
  const cpu0 = serverCpu(t);
  const kernel0 = serverKernelCpu(t);
  const start = now();
  await Promise.all(Array.from({ length: 8 }, lane));
  const ms = now() - start;
  const cpu = serverCpu(t) - cpu0;
  return { publishes: n, ms, perSec: (n / ms) * 1000, cpuUsPerPublish: cpu / n, kernelUsPerPublish: (serverKernelCpu(t) - kernel0) / n, syscallsPerPublish: (await syscalls()) / n };
}

async function connectPhase(t, load, n) {
  const cpu0 = serverCpu(t);
  const loadCpu0 = sum(load.pids().map(cpuUs));
  const start = now();
  const r = await load.connect(n, P.connConc);
  const ms = now() - start;
  return {
    connected: r.ok,
    failed: r.failed,
    ms,
    perSec: (r.ok / ms) * 1000,
    cpuUsPerConn: (serverCpu(t) - cpu0) / Math.max(1, r.ok),
    loadCoreUse: (sum(load.pids().map(cpuUs)) - loadCpu0) / 1000 / ms,
  };
}

// ---------- scenarios ----------
async function fanoutSuite(kind) {
  const t = await startTarget(kind);
  const load = new Load();
  const out = { label: t.label };
  try {
    await load.init(t.client, false, t.kind === 'nchan' ? [] : tokenPool);
    out.publishCost = await publishCost(t, P.publishCost);
    log(`${t.label}: publish cost`, fmtObj(out.publishCost));
    await sleep(1000);
    const rss0 = serverRss(t);
    log(`${t.label}: connecting ${P.big}`);
    out.connect = (await connectPhase(t, load, P.big));
    log(`${t.label}: connect`, fmtObj(out.connect));
    await sleep(2000);
    const rss1 = serverRss(t);
    out.idle = { connections: out.connect.connected, rssBeforeMiB: rss0 / 2 ** 20, rssAfterMiB: rss1 / 2 ** 20, bytesPerConn: (rss1 - rss0) / Math.max(1, out.connect.connected) };
    log(`${t.label}: idle`, fmtObj(out.idle));
    out.big = await fanOut(t, load, { n: P.rateBig * P.secsBig, rate: P.rateBig });
    log(`${t.label}: ${P.big} @${P.rateBig}/s`, fmtObj(out.big));
    out.bigMax = await fanOut(t, load, { n: P.burstBig, rate: 0 });
    log(`${t.label}: ${P.big} max`, fmtObj(out.bigMax));
    if (t.publishBatch) {
      out.bigMaxBatch = await fanOut(t, load, { n: P.burstBig, rate: 0, batch: P.batch });
      log(`${t.label}: ${P.big} max, batches of ${P.batch}`, fmtObj(out.bigMaxBatch));
    }
    await load.all({ cmd: 'drop' }, () => ({ keep: P.small / WORKERS }));
    await sleep(1000);
    out.small = await fanOut(t, load, { n: P.rateSmall * P.secsSmall, rate: P.rateSmall });
    log(`${t.label}: ${P.small} @${P.rateSmall}/s`, fmtObj(out.small));
    out.smallMax = await fanOut(t, load, { n: P.burstSmall, rate: 0 });
    log(`${t.label}: ${P.small} max`, fmtObj(out.smallMax));
    if (t.publishBatch) {
      const perBatch = Math.max(2, Math.round((P.rateSmall * P.lingerMs) / 1000));
      out.smallBatch = await fanOut(t, load, { n: P.rateSmall * P.secsSmall, rate: P.rateSmall, batch: perBatch });
      log(`${t.label}: ${P.small} @${P.rateSmall}/s, batches of ${perBatch}`, fmtObj(out.smallBatch));
    }
  } finally {
    await load.exit();
    await t.stop();
  }
  return out;
}

// ---------- report ----------
const fmt = (x, d = 1) => (typeof x !== 'number' || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const fmtObj = (o) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v, 2) : v}`)
    .join(' ');

async function main() {
  const started = new Date();
  log(`bench ${FULL ? 'full' : 'quick'}: targets ${TARGETS.join(',')}, scenarios ${SCENARIOS.join(',')}; temp ${TMP}`);
  ensureRedisBinary();
  if (TARGETS.includes('nchan')) ensureNginx();
  const redis = await new testing.RedisServer(0, { wrapper: wrapperFor(LOAD_CORE), dir: TMP }).start();
  watch('redis', redis.proc, TMP);
  redisUrl = redis.url;
  pub = new Redis(redisUrl);
  const loadavg = () => {
    let psi = '';
    try {
      psi = `, CPU pressure some avg60 ${/avg60=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]}%`;
    } catch {
      /* no PSI */
    }
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] + psi;
  };
  if (SCENARIOS.includes('fanout') && TARGETS.some((k) => k !== 'nchan')) await prepareTokens(P.big);
  const results = { argv, fanout: {}, machine: versions(), started: started.toISOString(), full: FULL, params: P, loadStart: loadavg() };
  if (SCENARIOS.includes('fanout')) for (const kind of TARGETS) results.fanout[kind] = await fanoutSuite(kind);
  const extra = await import('./scenarios.mjs').catch(() => undefined);
  if (extra) await extra.run({ results, SCENARIOS, P, FULL, TARGETS, ctx: { log, Load, startHerald, startTarget, ROOT, waitDelivered, fanOut, connectPhase, serverRss, serverCpu, httpRequest, postNotification, SERVICE_KEY, TMP, redisUrl: () => redisUrl, redisPid: () => redis.proc.pid, nextSeq: (n) => { const b = nextSeq; nextSeq += n; return b; }, fmtObj } });
  results.seconds = (Date.now() - t0) / 1000;
  results.loadEnd = loadavg();
  writeFileSync(OUT.replace(/\.md$/, '.json'), JSON.stringify(results, null, 2));
  const { report } = await import('./report.mjs');
  writeFileSync(OUT, report(results));
  log(`wrote ${OUT}`);
  pub.disconnect();
  redis.proc.expectedExit = true;
  await redis.stop();
}

await main();
process.exit(0);
