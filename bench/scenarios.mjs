// Herald-specific scenarios: scale-out and 100,000 connections (scaleout.mjs), the Redis hop, the resume storm, slow
// consumers, and (secondary) broker injection side by side with the references.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { cpuUs, now, sleep, sum } from './lib.mjs';
import { hundredk, scaleout } from './scaleout.mjs';

async function postNotifications(ctx, port, seqs, concurrency = 8) {
  let next = 0;
  const lane = async () => {
    while (next < seqs.length) await ctx.postNotification(port, seqs[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

async function resumeStorm(ctx, P) {
  const { log, Load, startHerald } = ctx;
  const dataDir = join(ctx.TMP, `storm-${randomBytes(3).toString('hex')}`);
  mkdirSync(dataDir, { recursive: true });
  const node = await startHerald({ name: 'storm', dataDir });
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
    node.node.proc.expectedExit = true;
    await node.node.stop('SIGKILL');
    log(`storm: node killed after ${k1} messages reached all ${armed} clients`);
    await sleep(500);
    await node.node.restart();
    const proc = node.node.proc;
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

/**
 * Slow consumers. The 16 KiB messages are written into the broker channel (Herald's and the
 * bare ws server's Redis channel): POST /api/v1/notifications takes at most 2,000 characters,
 * and this scenario is about what a server does with sockets that stop reading, not its publish path.
 */
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
    const baseline = await fanOut(t, load, { n: rate * 3, rate, pad, via: 'broker' });
    const rssStart = serverRss(t);
    await load.all({ cmd: 'pause' }, () => ({ n: Math.ceil(slow / load.workers.length) }));
    let peak = rssStart;
    const sampler = setInterval(() => (peak = Math.max(peak, serverRss(t))), 200);
    const loaded = await fanOut(t, load, { n: rate * secs, rate, pad, via: 'broker' });
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

/**
 * Secondary, labelled as such: messages written straight into each server's broker channel
 * (Redis PUBLISH on `<prefix>herald:admins` for Herald, on its own channel for bare ws and
 * Socket.IO). No HTTP, no validation, no durable write: no producer takes this path; it shows
 * the fan-out alone. Nchan has no broker channel and is left out.
 */
async function injection(ctx, P, kind) {
  const { log, Load, fanOut } = ctx;
  // Herald with the Redis broker: the channel the message is injected into.
  const t = kind === 'herald' ? await ctx.startHerald({ name: 'inject', label: 'Herald (SQLite + Redis)' }) : await ctx.startTarget(kind);
  const load = new Load();
  try {
    await load.init(t.client);
    const c = await load.connect(P.small, P.connConc);
    log(`inject ${t.label}: connected ${c.ok} (failed ${c.failed})`);
    await sleep(1000);
    const small = await fanOut(t, load, { n: P.rateSmall * P.secsSmall, rate: P.rateSmall, via: 'broker' });
    log(`inject ${t.label}: ${P.small} @${P.rateSmall}/s`, ctx.fmtObj(small));
    const smallMax = await fanOut(t, load, { n: P.burstSmall, rate: 0, via: 'broker' });
    log(`inject ${t.label}: ${P.small} max`, ctx.fmtObj(smallMax));
    return { label: t.label, small, smallMax };
  } finally {
    await load.exit();
    await t.stop();
  }
}

/**
 * WS_WRITE_DELAY_MS measured: Herald (SQLite) with 1,000 admin sockets at the small fixed rate,
 * one message per request, with live frames held 0 (until the event loop's pass ends), 5 and
 * 20 ms: what holding frames back saves in CPU and system calls, and what it costs in latency.
 */
async function writeDelay(ctx, P) {
  const { log, Load, fanOut } = ctx;
  const runs = [];
  const secs = Math.min(P.secsSmall, 10);
  for (const delayMs of [0, 5, 20]) {
    const t = await ctx.startHerald({ name: `write-delay-${delayMs}`, extraEnv: { REDIS_URL: '', WS_WRITE_DELAY_MS: String(delayMs) } });
    const load = new Load();
    try {
      await load.init(t.client);
      await load.connect(P.small, P.connConc);
      await sleep(1000);
      const r = await fanOut(t, load, { n: P.rateSmall * secs, rate: P.rateSmall });
      const run = { delayMs, clients: r.clients, rate: P.rateSmall, secs, cpuUsPerDelivery: r.cpuUsPerDelivery, userUsPerDelivery: r.userUsPerDelivery, kernelUsPerDelivery: r.kernelUsPerDelivery, syscallsPerDelivery: r.syscallsPerDelivery, p50: r.p50, p99: r.p99, max: r.max, lost: r.lost, dups: r.dups };
      log('write delay', ctx.fmtObj(run));
      runs.push(run);
    } finally {
      await load.exit();
      await t.stop();
    }
  }
  return { runs };
}

export async function run({ results, SCENARIOS, P, FULL, TARGETS, ctx }) {
  if (SCENARIOS.includes('writedelay')) results.writeDelay = await writeDelay(ctx, P);
  // Scale-out under equal cgroup quotas and 100,000 connections: bench/scaleout.mjs (issue 20).
  if (SCENARIOS.includes('cluster')) results.scaleout = await scaleout(ctx, P);
  if (SCENARIOS.includes('hundredk')) results.hundredk = await hundredk(ctx, P);
  if (SCENARIOS.includes('hop')) results.hop = await redisHop(ctx, P);
  if (SCENARIOS.includes('resume')) results.resume = await resumeStorm(ctx, P);
  if (SCENARIOS.includes('slow')) {
    results.slow = [];
    for (const kind of ['herald', 'ws']) results.slow.push(await slowConsumers(ctx, P, kind));
  }
  if (SCENARIOS.includes('durable')) {
    const { durable, durableParams } = await import('./durable.mjs');
    results.durable = await durable(ctx, { ...P, ...durableParams(FULL, results.argv) });
  }
  if (SCENARIOS.includes('inject')) {
    results.inject = {};
    for (const kind of TARGETS.filter((k) => ['herald', 'ws', 'sio'].includes(k))) results.inject[kind] = await injection(ctx, P, kind);
  }
}
