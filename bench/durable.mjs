// Durable personal notifications at disk speed (issue 20). Every user has one WebSocket with its
// own platform token (HS256, `sub` = its id, JWT_SECRET_SHARED=true: Herald provisions the user
// on first connect); a producer publishes personal `system_message`s through
// `POST /api/v1/events` with the service key, in bodies of 500 events each addressed to one
// user (`"target": "<sub>"`), stored and delivered. Side by side, in the same run and on the same
// core: the raw insert rate of the same database (better-sqlite3 / pg, bench/durable-raw.mjs)
// writing the same rows in the same transactions of 500. SQLite (embedded default, in-process
// broker) and PostgreSQL + Redis (as a cluster runs).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// lib.mjs builds @herald/testing when loaded: imported by durable() only, so report.mjs can
// import durableReport (and render.mjs re-render) without it.
let cpuSplitUs, now, sleep, sum, testing, wrapperFor;

const run = promisify(execFile);
/** Time (µs) a process was runnable but waiting for a CPU (/proc/<pid>/schedstat, 2nd field): on a shared core, starvation. */
const runqueueUs = (pid) => {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1000;
  } catch {
    return 0;
  }
};
const BATCH = 500;
const SERVER_CORE = 0;
const PG_BASE = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Sizes: `--durableUsers=`, `--durableBatches=` (batches of 500 measured), `--durableInFlight=`
 * (requests in flight), `--durableRawRowBatches=` (batches for the raw per-row mode, capped: slow on PostgreSQL).
 * In `--full` only (10,000 users); `--scenarios=durable` alone runs the smaller quick sizes (2,000 users).
 */
export function durableParams(full, argv = []) {
  const P = full ? { durableUsers: 10000, durableBatches: 100, durableInFlight: 2, durableRawRowBatches: 20 } : { durableUsers: 2000, durableBatches: 40, durableInFlight: 2, durableRawRowBatches: 20 };
  for (const k of Object.keys(P)) {
    const given = argv.find((a) => a.startsWith(`--${k}=`));
    if (given) P[k] = Number(given.slice(k.length + 3));
  }
  // --durableStores=sqlite (or postgres): one store only, for a quicker look while working.
  P.durableStores = (argv.find((a) => a.startsWith('--durableStores='))?.slice(16) ?? 'sqlite,postgres').split(',');
  return P;
}

/** A fresh PostgreSQL database named h_durable_<tag>_* (dropped by `drop`), or undefined when none is reachable. */
const freshPg = (tag) => testing.freshPostgresDatabase(PG_BASE, `h_durable_${tag}_`);

/** Lets Herald migrate a scratch store (`herald user list` opens and migrates it), nothing else. */
function migrateWithHerald(env) {
  const r = testing.heraldCli(['user', 'list'], { ...process.env, LOG_LEVEL: 'warn', REDIS_URL: '', ...env });
  if (r.status !== 0) throw new Error(`herald user list (migrate): ${r.stderr}`);
}

/** The raw rate of one mode, in a child on Herald's core. */
async function raw(opts) {
  const argv = [...wrapperFor(SERVER_CORE), process.execPath, fileURLToPath(new URL('./durable-raw.mjs', import.meta.url)), JSON.stringify(opts)];
  const { stdout } = await run(argv[0], argv.slice(1), { maxBuffer: 1 << 20, timeout: 120000 });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/** Raw rates (per-row statements and multi-row statements) into fresh scratch stores with Herald's schema. */
async function rawRates(ctx, store, P) {
  const opts = { users: P.durableUsers, batches: P.durableBatches, batch: BATCH };
  const out = {};
  for (const mode of ['rows', 'multi']) {
    // Row by row, PostgreSQL pays a round trip per statement (~2,500 rows/s here): fewer batches keep the suite short.
    if (mode === 'rows') opts.batches = Math.min(P.durableBatches, P.durableRawRowBatches);
    else opts.batches = P.durableBatches;
    if (store === 'sqlite') {
      const dir = join(ctx.TMP, `durable-raw-${mode}-${randomBytes(3).toString('hex')}`);
      mkdirSync(dir, { recursive: true });
      migrateWithHerald({ DATA_DIR: dir, DATABASE_URL: '' });
      const file = readdirSync(dir).find((f) => /\.(db|sqlite3?)$/.test(f));
      if (!file) throw new Error(`no SQLite file in ${dir}: ${readdirSync(dir)}`);
      out[mode] = await raw({ ...opts, store, mode, file: join(dir, file) });
    } else {
      const db = await freshPg('raw');
      try {
        migrateWithHerald({ DATABASE_URL: db.url });
        out[mode] = await raw({ ...opts, store, mode, url: db.url });
      } finally {
        await db.drop().catch(() => undefined);
      }
    }
    ctx.log(`durable raw ${store} ${mode}`, ctx.fmtObj(out[mode]));
  }
  return out;
}

const userEvent = (sub, seq) => `{"type":"system_message","target":"${sub}","message":"#B${seq}:${Math.round(now() * 1000)}#","level":"info"}`;

/** Herald with `users` personal sockets; `batches` bodies of 500 personal events; stored and delivered. */
async function heraldRun(ctx, store, P) {
  const { log, Load } = ctx;
  const U = P.durableUsers;
  const db = store === 'postgres' ? await freshPg('herald') : undefined;
  if (store === 'postgres' && !db) return { skipped: 'no PostgreSQL reachable' };
  if (U < BATCH) throw new Error(`--durableUsers must be at least ${BATCH} (one batch addresses ${BATCH} different users)`);
  // SQLite: the embedded default, in-process broker. PostgreSQL: with Redis as the broker, as a cluster runs.
  const extraEnv = { JWT_SECRET_SHARED: 'true', ...(db ? { DATABASE_URL: db.url } : { REDIS_URL: '' }) };
  const t = await ctx.startHerald({ name: `durable-${store}`, extraEnv });
  const pid = t.node.pid;
  const load = new Load();
  const prefix = `u${randomBytes(2).toString('hex')}-`;
  const sub = (u) => `${prefix}${u}`;
  const publish = async (body) => {
    const r = await ctx.httpRequest(t.port, 'POST', '/api/v1/events', body, { authorization: `Bearer ${ctx.SERVICE_KEY}` });
    if (r.status !== 202) throw new Error(`POST /api/v1/events: ${r.status} ${r.body.slice(0, 300)}`);
  };
  const bodyOf = (from, seqOf) => `[${Array.from({ length: BATCH }, (_, i) => userEvent(sub((from + i) % U), seqOf(from + i))).join(',')}]`;
  try {
    const W = load.workers.length;
    const share = (i) => Math.floor(U / W) + (i < U % W ? 1 : 0);
    const first = (i) => sum(Array.from({ length: i }, (_, j) => share(j)));
    const template = `ws://127.0.0.1:${t.port}/api/v1/ws?token={token}`;
    await load.all({ cmd: 'init', target: { kind: 'herald', url: template } }, (i) => ({ addrs: [`127.0.0.${2 + i}`], users: { template, secret: t.env.JWT_SECRET, prefix, first: first(i) } }));
    const c0 = now();
    const connectCpu0 = cpuSplitUs(pid);
    const c = await load.connect(U, P.connConc);
    const connectCpu1 = cpuSplitUs(pid);
    const connectSecs = (now() - c0) / 1000;
    const connectCpuUs = (connectCpu1.user + connectCpu1.kernel - connectCpu0.user - connectCpu0.kernel) / Math.max(1, c.ok);
    log(`durable ${store}: connected ${c.ok} users (failed ${c.failed}) in ${connectSecs.toFixed(1)} s, ${connectCpuUs.toFixed(0)} µs server CPU each (first connect: the user is provisioned)`);
    // Warm-up, not counted (sequence 0 is stale for every client): two batches, then a pause.
    for (let w = 0; w < 2; w++) await publish(bodyOf(w * BATCH, () => 0));
    await sleep(1500);
    const N = P.durableBatches * BATCH;
    const base = ctx.nextSeq(N);
    // Event k goes to user k % U: the clients know exactly which sequences are theirs.
    await load.all({ cmd: 'arm', base, count: N, stride: U });
    const armedStats = await load.stats();
    const expected = armedStats.expected;
    const cpu0 = cpuSplitUs(pid);
    const wait0 = runqueueUs(pid);
    const loadCpu0 = sum(load.pids().map((p) => cpuSplitUs(p).user + cpuSplitUs(p).kernel));
    const start = now();
    const publishAll = async (seqOf) => {
      let next = 0;
      const lane = async () => {
        while (next < P.durableBatches) {
          const b = next++;
          await publish(bodyOf(b * BATCH, seqOf));
        }
      };
      await Promise.all(Array.from({ length: P.durableInFlight }, lane));
    };
    await publishAll((k) => base + k);
    const published = now();
    await ctx.waitDelivered(load, expected, 60000);
    const s = await load.stats();
    const cpu1 = cpuSplitUs(pid);
    const wait1 = runqueueUs(pid);
    const loadCpu1 = sum(load.pids().map((p) => cpuSplitUs(p).user + cpuSplitUs(p).kernel));
    const elapsedMs = Math.max(s.lastRecvAt, published) - start;
    // The split: the same publishes with every socket closed (users still exist): HTTP, checks,
    // identities and the store (and the Redis PUBLISH), without the deliveries.
    await load.all({ cmd: 'drop', keep: 0 });
    await sleep(1000);
    const base2 = ctx.nextSeq(N);
    const cpu2 = cpuSplitUs(pid);
    const start2 = now();
    await publishAll((k) => base2 + k);
    const storedOnlyMs = now() - start2;
    const cpu3 = cpuSplitUs(pid);
    const r = {
      users: c.ok,
      failedConnects: c.failed,
      connectSecs,
      connectCpuUs,
      events: N,
      armed: s.armed,
      expected,
      delivered: s.received,
      lost: s.lost,
      dups: s.dups,
      wrong: s.wrong,
      storedPerSec: (N / (published - start)) * 1000,
      ratePerSec: (s.received / elapsedMs) * 1000,
      elapsedMs,
      p50: s.p50,
      p90: s.p90,
      p99: s.p99,
      max: s.max,
      cpuUsPerEvent: (cpu1.user + cpu1.kernel - cpu0.user - cpu0.kernel) / N,
      userUsPerEvent: (cpu1.user - cpu0.user) / N,
      serverCoreUse: (cpu1.user + cpu1.kernel - cpu0.user - cpu0.kernel) / 1000 / elapsedMs,
      serverRunqueueShare: (wait1 - wait0) / 1000 / elapsedMs,
      loadCoreUse: (loadCpu1 - loadCpu0) / 1000 / elapsedMs,
      noSocketsPerSec: (N / storedOnlyMs) * 1000,
      noSocketsCpuUsPerEvent: (cpu3.user + cpu3.kernel - cpu2.user - cpu2.kernel) / N,
      noSocketsUserUsPerEvent: (cpu3.user - cpu2.user) / N,
    };
    log(`durable ${store}`, ctx.fmtObj(r));
    return r;
  } finally {
    await load.exit();
    await t.stop();
    await db?.drop().catch(() => undefined);
  }
}

/** The scenario: for each store, the raw rate then Herald's, same sizes. */
export async function durable(ctx, P) {
  ({ cpuSplitUs, now, sleep, sum, testing, wrapperFor } = await import('./lib.mjs'));
  const out = { users: P.durableUsers, batches: P.durableBatches, rawRowBatches: Math.min(P.durableBatches, P.durableRawRowBatches), batch: BATCH, inFlight: P.durableInFlight, stores: [] };
  for (const store of ['sqlite', 'postgres'].filter((s) => P.durableStores.includes(s))) {
    const entry = { store, label: store === 'sqlite' ? 'SQLite (embedded default, in-process broker)' : 'PostgreSQL + Redis broker' };
    const probe = store === 'postgres' ? await freshPg('probe') : undefined;
    await probe?.drop().catch(() => undefined);
    if (store === 'postgres' && !probe) {
      entry.skipped = 'no PostgreSQL reachable';
      out.stores.push(entry);
      continue;
    }
    entry.raw = await rawRates(ctx, store, P);
    entry.herald = await heraldRun(ctx, store, P);
    out.stores.push(entry);
  }
  return out;
}

const f = (x, d = 1) => (typeof x !== 'number' || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));

/** RESULTS.md lines: the table, the targets (≥ 0.5× raw, 0 lost) and, when not met, the measured split. */
export function durableReport(d) {
  if (!d) return [];
  const lines = [
    `## Durable personal notifications (${d.users.toLocaleString('en')} users, one socket each, ${d.batches} × ${d.batch} personal events over HTTP)`,
    '',
    `Path: \`POST /api/v1/events\` with the service key, bodies of ${d.batch} \`system_message\`s each addressed to one user (\`"target": "<platform id>"\`), ${d.inFlight} requests in flight; every user's socket connected with its own platform token (HS256, \`sub\`); stored, then delivered. The rate counts an event once stored **and** delivered (first publish to last delivery). Raw: the same rows (stream_heads upsert + notifications row) in the same transactions of ${d.batch}, into a fresh database Herald migrated, by better-sqlite3 / pg alone on Herald's core: "per row" = the two statements a one-by-one writer issues per event, prepared (${d.rawRowBatches ?? d.batches} batches); "multi-row" = two statements per batch (what Herald now does). The target compares with the faster raw mode. "sockets closed": the same publishes again after every client disconnected (users still exist): the cost of taking, checking and storing without delivering. Wall-clock rates depend on what else runs on this shared machine (see the split: time Herald waited for its core); the CPU µs per event are the steadier comparison.`,
    '',
    '| store | raw per row events/s (CPU µs/event) | raw multi-row events/s (CPU µs/event) | Herald stored + delivered events/s ↑ | Herald ÷ best raw | Herald CPU µs per event (user) | p50 / p99 / max ms publish → receive | lost / dup / misrouted | Herald, sockets closed: events/s (CPU µs/event) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  ];
  const targets = [];
  for (const s of d.stores) {
    if (s.skipped || s.herald?.skipped) {
      lines.push(`| ${s.label} | skipped: ${s.skipped ?? s.herald.skipped} |  |  |  |  |  |  |  |`);
      continue;
    }
    const h = s.herald;
    const best = Math.max(s.raw.rows.rate, s.raw.multi.rate);
    const ratio = h.ratePerSec / best;
    lines.push(
      `| ${s.label} | ${f(s.raw.rows.rate, 0)} (${f(s.raw.rows.cpuUsPerEvent, 1)}) | ${f(s.raw.multi.rate, 0)} (${f(s.raw.multi.cpuUsPerEvent, 1)}) | ${f(h.ratePerSec, 0)} | ${ratio.toFixed(2)}× | ${f(h.cpuUsPerEvent, 1)} (${f(h.userUsPerEvent, 1)}) | ${f(h.p50, 1)} / ${f(h.p99, 1)} / ${f(h.max, 1)} | ${h.lost} / ${h.dups} / ${h.wrong} | ${f(h.noSocketsPerSec, 0)} (${f(h.noSocketsCpuUsPerEvent, 1)}) |`,
    );
    // SQLite's raw writer does all of its work in its own process: CPU per event compares without the shared machine's noise.
    const rawCpu = (s.raw.rows.rate >= s.raw.multi.rate ? s.raw.rows : s.raw.multi).cpuUsPerEvent;
    const byCpu = s.store === 'sqlite' ? `; by CPU per event (independent of what else ran on the core): ${f(rawCpu, 1)} ÷ ${f(h.cpuUsPerEvent, 1)} µs = ${(rawCpu / h.cpuUsPerEvent).toFixed(2)}×` : '';
    targets.push(`| ${s.label}: Herald ≥ 0.5× the raw insert rate | ${f(h.ratePerSec, 0)} vs ${f(best, 0)} events/s = ${ratio.toFixed(2)}× (wall clock)${byCpu} | ${ratio >= 0.5 ? '**met**' : '**not met**'} |`);
    const clean = h.lost === 0 && h.dups === 0 && h.wrong === 0 && h.users === d.users;
    targets.push(`| ${s.label}: 0 lost / duplicated (${h.expected.toLocaleString('en')} deliveries expected, ${h.users} of ${d.users} users connected) | ${h.lost} lost, ${h.dups} duplicated, ${h.wrong} misrouted | ${clean ? '**met**' : '**not met**'} |`);
    if (ratio < 0.5) {
      const rawMode = s.raw.rows.rate >= s.raw.multi.rate ? s.raw.rows : s.raw.multi;
      targets.push(
        `| ↳ split | Herald ${f(h.cpuUsPerEvent, 1)} µs CPU per event (${f(h.userUsPerEvent, 1)} user, the rest kernel) = ${f(h.noSocketsCpuUsPerEvent, 1)} µs to take, check and store it (the same publishes with the sockets closed: ${f(h.noSocketsPerSec, 0)} events/s = ${(h.noSocketsPerSec / best).toFixed(2)}× raw) + ${f(h.cpuUsPerEvent - h.noSocketsCpuUsPerEvent, 1)} µs to deliver it (one frame, one write() to its own socket); the raw writer: ${f(rawMode.cpuUsPerEvent, 1)} µs CPU per event (${s.store === 'sqlite' ? 'all of its work' : 'client side only; the PostgreSQL backend works too'}), ${f(1e6 / best, 1)} µs of wall time. Over the run Herald ran ${f(h.serverCoreUse, 2)} of the time, waited for its core (runnable, another process on it) ${f(h.serverRunqueueShare, 2)}, and was otherwise waiting for the database, Redis or the publisher; the load generator used ${f(h.loadCoreUse, 2)} core | |`,
      );
    }
  }
  const connects = d.stores.filter((s) => s.herald && !s.herald.skipped && s.herald.connectSecs !== undefined).map((s) => `${s.label}: ${f(s.herald.connectSecs, 1)} s, ${f(s.herald.connectCpuUs, 0)} µs of Herald's CPU per connection`);
  if (connects.length) lines.push('', `Connecting the ${d.users.toLocaleString('en')} users (each one's first connection, so Herald provisions it from its token): ${connects.join('; ')}.`);
  lines.push('', '| target | measured | |', '| --- | --- | --- |', ...targets, '');
  return lines;
}
