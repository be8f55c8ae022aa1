// Renders bench/RESULTS.md from the results object of run.mjs.
import { durableReport } from './durable.mjs';
import { hundredkReport, scaleoutReport } from './scaleout.mjs';
const f = (x, d = 1) => (typeof x !== 'number' || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : 'n/a');
const KINDS = ['herald', 'herald-pg', 'herald-sse', 'ws', 'sio', 'nchan'];
const NAMES = { herald: 'Herald (SQLite)', 'herald-pg': 'Herald (PostgreSQL + Redis)', 'herald-sse': 'Herald over SSE', ws: 'bare ws', sio: 'Socket.IO 4.8', nchan: 'nginx+Nchan' };
const HERALDS = ['herald', 'herald-pg'];

const perBatch = (P) => Math.max(2, Math.round((P.rateSmall * (P.lingerMs ?? 100)) / 1000));
const FANOUT_PHASES = (P) => [
  ['big', `fan-out ${P.big} sockets @ ${P.rateBig} msg/s × ${P.secsBig} s, one message per request`],
  ['bigMax', `fan-out ${P.big} sockets, ${P.burstBig} msgs as fast as possible, one per request`],
  ['bigMaxBatch', `fan-out ${P.big} sockets, ${P.burstBig} msgs as fast as possible, ${P.batch ?? 10} per request (Herald: POST /api/v1/events; the references have no batch publish)`],
  ['small', `fan-out ${P.small} sockets @ ${P.rateSmall} msg/s × ${P.secsSmall} s, one message per request`],
  ['smallBatch', `fan-out ${P.small} sockets @ ${P.rateSmall} msg/s × ${P.secsSmall} s, a batching producer: ${perBatch(P)} per request every ${P.lingerMs ?? 100} ms (latency from when each message was due)`],
  ['smallMax', `fan-out ${P.small} sockets, ${P.burstSmall} msgs as fast as possible, one per request`],
];

function fanoutTable(res, P, phases = FANOUT_PHASES(P)) {
  const kinds = KINDS.filter((k) => res[k]);
  // Each Herald setup (SQLite; PostgreSQL + Redis) ÷ each reference.
  const heralds = kinds.filter((k) => HERALDS.includes(k));
  const refs = kinds.filter((k) => !k.startsWith('herald'));
  const pairs = heralds.flatMap((h) => refs.map((k) => [h, k]));
  const rows = [];
  const row = (scenario, metric, get, digits = 1, lowerIsBetter = true) => {
    const vals = kinds.map((k) => get(res[k]));
    rows.push(`| ${scenario} | ${metric}${lowerIsBetter ? ' ↓' : ' ↑'} | ${vals.map((v) => (typeof v === 'string' ? v : f(v, digits))).join(' | ')} |${pairs.map(([h, k]) => ` ${ratio(get(res[h]), get(res[k]))} |`).join('')}`);
  };
  const lossRow = (scenario, key) => row(scenario, 'lost (undelivered after 20-60 s) / duplicated', (r) => (r[key] ? `${r[key].lost} / ${r[key].dups}` : 'n/a'));
  if (kinds.some((k) => res[k].publishCost)) {
    const n = kinds.map((k) => res[k].publishCost?.publishes).find(Boolean);
    row(`publish with nobody subscribed (${n} requests, 8 in flight): the fixed cost of one publish`, 'server CPU µs per publish', (r) => r.publishCost?.cpuUsPerPublish, 0);
    row('', 'server system calls per publish', (r) => r.publishCost?.syscallsPerPublish, 1);
    row('', 'publishes/s', (r) => r.publishCost?.perSec, 0, false);
  }
  if (kinds.some((k) => res[k].connect)) {
    row(`connect + auth, ${P.big} sockets (${P.connConc}×${4} in flight)`, 'connections/s', (r) => r.connect?.perSec, 0, false);
    row('', 'server CPU µs per connection', (r) => r.connect?.cpuUsPerConn, 0);
    row(`idle, ${P.big} authenticated sockets`, 'server RSS bytes per connection', (r) => r.idle?.bytesPerConn, 0);
  }
  for (const [key, label] of phases) {
    if (!kinds.some((k) => res[k][key])) continue;
    row(label, 'server CPU µs per delivery', (r) => r[key]?.cpuUsPerDelivery, 2);
    row('', '… of which user space (the server\'s own code)', (r) => r[key]?.userUsPerDelivery, 2);
    row('', '… of which kernel (socket writes, loopback TCP)', (r) => r[key]?.kernelUsPerDelivery, 2);
    row('', 'server system calls per delivery (perf, raw_syscalls)', (r) => r[key]?.syscallsPerDelivery, 2);
    if (key.includes('Max')) row('', 'deliveries/s', (r) => r[key]?.deliveriesPerSec, 0, false);
    row('', 'latency p50 ms', (r) => r[key]?.p50, 2);
    row('', 'latency p90 ms', (r) => r[key]?.p90, 2);
    row('', 'latency p99 ms', (r) => r[key]?.p99, 2);
    row('', 'latency max ms', (r) => r[key]?.max, 2);
    row('', 'server / load-generator core use', (r) => (r[key] ? `${f(r[key].serverCoreUse, 2)} / ${f(r[key].loadCoreUse, 2)}` : 'n/a'));
    lossRow('', key);
  }
  return [
    `| scenario | metric | ${kinds.map((k) => NAMES[k]).join(' | ')} |${pairs.map(([h, k]) => ` ${h === 'herald' ? 'SQLite' : 'PG'} ÷ ${NAMES[k]} |`).join('')}`,
    `| --- | --- | ${kinds.map(() => '---').join(' | ')} |${pairs.map(() => ' --- |').join('')}`,
    ...rows,
  ].join('\n');
}

/** Issue 20's targets, as ratios measured in one run on the HTTP publish path (Herald ÷ reference). */
function fanoutGoals(results) {
  const P = results.params;
  const N = P.big.toLocaleString('en');
  const S = P.small.toLocaleString('en');
  const r = results.fanout ?? {};
  const goals = [];
  for (const hk of HERALDS.filter((k) => r[k])) {
    const h = r[hk];
    const name = NAMES[hk];
    const cpu = (ref, key, refKey, factor, refName, why) => {
      const a = h[key]?.cpuUsPerDelivery;
      const b = r[ref]?.[refKey ?? key]?.cpuUsPerDelivery;
      if (a === undefined || b === undefined) return;
      goals.push({ hk, ref, key, refKey: refKey ?? key, kind: 'cpu', factor, goal: `${name}: CPU per delivery, ${why} ≤ ${factor}× ${refName}`, a, b, unit: 'µs', met: a <= factor * b });
    };
    for (const [ref, factor] of [['ws', 0.8], ['nchan', 0.9]]) {
      const refName = NAMES[ref];
      cpu(ref, 'big', 'big', factor, refName, `${N} sockets @ ${P.rateBig} msg/s, one per request`);
      cpu(ref, 'bigMax', 'bigMax', factor, refName, `${N} sockets as fast as possible, one per request`);
      cpu(ref, 'bigMaxBatch', 'bigMax', factor, refName, `${N} sockets as fast as possible, Herald's producer batching ${P.batch ?? 10} per request (the reference one per request)`);
    }
    cpu('nchan', 'small', 'small', 1.0, NAMES.nchan, `${S} sockets @ ${P.rateSmall} msg/s, one per request`);
    cpu('nchan', 'smallMax', 'smallMax', 1.0, NAMES.nchan, `${S} sockets as fast as possible, one per request`);
    cpu('nchan', 'smallBatch', 'small', 1.0, NAMES.nchan, `${S} sockets @ ${P.rateSmall} msg/s, Herald's producer batching every ${P.lingerMs ?? 100} ms`);
    if (r.ws) {
      const pc = h.small?.p99;
      const pw = r.ws.small?.p99;
      if (pc !== undefined && pw !== undefined) goals.push({ hk, ref: 'ws', key: 'small', kind: 'p99', goal: `${name}: p99 at ${S} sockets × ${P.rateSmall} msg/s ≤ bare ws`, a: pc, b: pw, unit: 'ms', met: pc <= pw });
      const ca = h.connect?.cpuUsPerConn;
      const cb = r.ws.connect?.cpuUsPerConn;
      if (ca !== undefined && cb !== undefined) goals.push({ hk, ref: 'ws', kind: 'connect', goal: `${name}: connect + JWT CPU per connection ≤ 1.2× bare ws`, a: ca, b: cb, unit: 'µs', met: ca <= 1.2 * cb });
      const ma = h.idle?.bytesPerConn;
      const mb = r.ws.idle?.bytesPerConn;
      if (ma !== undefined && mb !== undefined) goals.push({ hk, ref: 'ws', kind: 'idle', goal: `${name}: idle memory per connection ≤ 1.0× bare ws`, a: ma, b: mb, unit: 'B', met: ma <= mb });
    }
  }
  return goals;
}

/** Every Herald loss/duplicate count of the run, by scenario. */
function heraldLosses(results) {
  const r = results.fanout ?? {};
  const losses = [];
  for (const hk of [...HERALDS, 'herald-sse']) for (const [key, v] of Object.entries(r[hk] ?? {})) if (v && typeof v.lost === 'number') losses.push([`${hk}.${key}`, v.lost + v.dups]);
  for (const c of results.scaleout?.runs ?? []) losses.push([`scaleout${c.nodes}`, c.lost + c.dups + c.expected - c.delivered]);
  if (results.hundredk) losses.push(['hundredk', results.hundredk.lost + results.hundredk.dups + results.hundredk.expected - results.hundredk.delivered]);
  for (const key of ['small', 'smallMax']) if (results.inject?.herald?.[key]) losses.push([`inject.${key}`, results.inject.herald[key].lost + results.inject.herald[key].dups]);
  if (results.resume) losses.push(['resume', results.resume.lost + results.resume.dups]);
  for (const [i, run] of (results.hop?.runs ?? []).entries()) losses.push([`hop${i + 1}`, run.lost + run.dups]);
  for (const w of results.writeDelay?.runs ?? []) losses.push([`writeDelay${w.delayMs}`, w.lost + w.dups]);
  for (const [k, n] of results.extraLosses ?? []) losses.push([k, n]);
  return losses;
}

function targets(results) {
  const out = [];
  const add = (goal, measured, met) => out.push(`| ${goal} | ${measured} | ${met === undefined ? 'not measured' : met ? '**met**' : '**not met**'} |`);
  for (const g of fanoutGoals(results)) add(g.goal, `${f(g.a, 2)} vs ${f(g.b, 2)} ${g.unit} = ${ratio(g.a, g.b)}`, g.met);
  if (results.hop) {
    const { memory, redis } = results.hop;
    add('the Redis hop adds ≤ 2 ms to p50 (issue 8; same node and publish path, Redis vs in-process broker)', `${f(redis.p50, 2)} vs ${f(memory.p50, 2)} ms: +${f(redis.p50 - memory.p50, 2)} ms`, redis.p50 - memory.p50 <= 2);
  }
  for (const t of results.extraTargets ?? []) add(t.goal, t.measured, t.met);
  const losses = heraldLosses(results);
  add('0 lost or duplicated (Herald, every scenario)', losses.map(([k, n]) => `${k}: ${n}`).join(', '), losses.every(([, n]) => n === 0));
  return ['| target | measured (Herald vs reference) | |', '| --- | --- | --- |', ...out].join('\n');
}

/** For each fan-out target not met, the measured split that shows what limits it. */
function limits(results) {
  const r = results.fanout ?? {};
  const out = [];
  for (const g of fanoutGoals(results).filter((x) => !x.met)) {
    const h = r[g.hk];
    const ref = r[g.ref];
    const refName = NAMES[g.ref];
    if (g.kind === 'cpu') {
      const a = h[g.key];
      const b = ref[g.refKey];
      const goalUs = g.factor * b.cpuUsPerDelivery;
      const fixed = h.publishCost?.cpuUsPerPublish;
      const fixedRef = ref.publishCost?.cpuUsPerPublish;
      const perMsg = (x, batch = 1) => (x === undefined ? undefined : x / batch / a.clients);
      out.push(
        `- **${g.goal}** (${f(a.cpuUsPerDelivery, 2)} vs ${f(b.cpuUsPerDelivery, 2)} µs; goal ≤ ${f(goalUs, 2)}). ` +
          `User space ${f(a.userUsPerDelivery, 2)} vs ${f(b.userUsPerDelivery, 2)} µs, kernel ${f(a.kernelUsPerDelivery, 2)} vs ${f(b.kernelUsPerDelivery, 2)} µs per delivery; ` +
          `${f(a.syscallsPerDelivery, 2)} vs ${f(b.syscallsPerDelivery, 2)} system calls per delivery. ` +
          (fixed !== undefined
            ? `The fixed cost of a publish (nobody subscribed) is ${f(fixed, 0)} µs for Herald${fixedRef !== undefined ? ` and ${f(fixedRef, 0)} µs for ${refName}` : ''}: ${f(perMsg(fixed, a.batch), 2)} vs ${f(perMsg(fixedRef), 2)} µs of each delivery at ${a.clients} sockets. `
            : '') +
          (a.kernelUsPerDelivery >= goalUs
            ? `Herald's kernel time alone is above the goal: at ${f(a.syscallsPerDelivery, 2)} calls per delivery each delivery is about one write() of one frame, and on loopback the sender's system time carries the receiving client's TCP processing too; only fewer writes per delivery reach the goal (a batching producer, or WS_WRITE_DELAY_MS: see those rows).`
            : `With its kernel time, Herald's user space would have to fall to ${f(goalUs - a.kernelUsPerDelivery, 2)} µs per delivery (${ratio(goalUs - a.kernelUsPerDelivery, b.userUsPerDelivery)} of ${refName}'s ${f(b.userUsPerDelivery, 2)}).`),
      );
    } else if (g.kind === 'p99') {
      const a = h.small;
      const b = ref.small;
      out.push(
        `- **${g.goal}** (${f(a.p99, 2)} vs ${f(b.p99, 2)} ms; p50 ${f(a.p50, 2)} vs ${f(b.p50, 2)} ms). Server core use ${f(a.serverCoreUse, 2)} vs ${f(b.serverCoreUse, 2)}, load generator ${f(a.loadCoreUse, 2)} vs ${f(b.loadCoreUse, 2)}. ` +
          `Herald's path adds the durable write and, with Redis, the broker round trip before the fan-out (fixed cost per publish ${f(h.publishCost?.cpuUsPerPublish, 0)} vs ${f(ref.publishCost?.cpuUsPerPublish, 0)} µs); a fan-out of ${a.clients} sockets costs ${f((a.cpuUsPerDelivery * a.clients) / 1000, 1)} ms of CPU per message against ${f((b.cpuUsPerDelivery * b.clients) / 1000, 1)} ms, and the last socket of each fan-out waits for all the writes before it.`,
      );
    } else if (g.kind === 'connect') {
      out.push(`- **${g.goal}** (${f(g.a, 0)} vs ${f(g.b, 0)} µs). Herald's connect verifies the token, reads the user (cached), the stream heads and unread counts, registers the connection and writes \`connected\` and \`resumed\` (two messages in one write); bare ws verifies the token and writes one frame. See docs/performance.md for the profile of the connect path.`);
    } else if (g.kind === 'idle') {
      out.push(`- **${g.goal}** (${f(g.a, 0)} vs ${f(g.b, 0)} B). RSS growth ÷ connections, heaps not collected first: both servers hold a \`ws\` WebSocket, its socket and buffers; Herald also holds a session (delivery state, timers for token expiry and the heartbeat). The difference is within what a garbage collection moves (see docs/performance.md).`);
    }
  }
  return out;
}

/** RESULTS.md from the raw figures (`results.argv`: the command line that produced them). */
export function report(results) {
  const argv = results.argv ?? [];
  const P = results.params;
  const m = results.machine;
  const lines = [];
  // Runs before the HTTP publish path recorded no `via`: their fan-out went through the broker channel.
  const phase = Object.values(results.fanout ?? {})[0]?.big;
  const legacy = phase !== undefined && phase.via === undefined;
  lines.push('# Herald benchmark results', '');
  if (legacy) lines.push('**This run predates the HTTP publish path: every fan-out figure below was published by injecting messages into the broker channel (Redis), not over HTTP, and its tokens were built by the bench. The Method section describes the current suite.**', '');
  lines.push(`Generated by \`node bench/run.mjs ${argv.join(' ')}\` on ${results.started} (${results.full ? 'full' : 'quick'} suite, ${f(results.seconds, 0)} s). Do not edit by hand: re-run the suite.`, '');
  lines.push('## Machine', '', '| | |', '| --- | --- |');
  for (const [k, v] of Object.entries(m)) lines.push(`| ${k} | ${v} |`);
  lines.push(`| load average (1 min) at start / end (other sessions share this machine) | ${results.loadStart} / ${results.loadEnd} |`, '');
  lines.push('## Commands', '', '```', 'npm ci', 'npm run bench        # quick: node bench/run.mjs (4,000 and 1,000 sockets for every target + a 1,000-client resume storm)', 'npm run bench:full   # node bench/run.mjs --full (10,000 sockets; Herald on SQLite and PostgreSQL + Redis; WS_WRITE_DELAY_MS; scale-out under cgroup quotas;', '                     #   the Redis hop; 10,000-client resume storm; slow consumers; durable personal notifications; broker injection)', 'npm run bench:100k   # 100,000 connections behind nginx: bench/HUNDREDK.md', '```', '');
  lines.push(
    '## Method',
    '',
    '- Servers are pinned to core 0 (`taskset -c 0`; nginx with one worker), the load generator (4 worker processes, each with its own source address 127.0.0.2–5, ~2,500 sockets each), Redis and the driver to core 1. Only 127.0.0.0/8 is used.',
    '- **Publish path (every headline table): HTTP, as a producer sends.** Herald gets `POST /api/v1/notifications` with the service key, one message per request (validated, stored, then fanned out to the admin sockets as a `system_message`), or, as a batching producer, `POST /api/v1/events` with several `system_message` events per request (one transaction, then fanned out in order); the bare `ws` and Socket.IO servers get `POST /publish` and broadcast the body as it is (a JSON message in Herald\'s `transcode_progress` shape); Nchan gets a POST to its publisher location (its own in-memory pub/sub). The references have no batch publish. Every message carries `#B<seq>:<µs>#` in `message`, the time it was due (stamped before the request; for a batching producer at a fixed rate, when the event was due, so its latency includes the wait for the batch), so latency includes the HTTP request and, for Herald, the durable write.',
    '- **Herald as it runs.** `Herald (SQLite)` is what `npm start` runs: SQLite and the in-process broker. `Herald (PostgreSQL + Redis)` is a cluster node: a fresh PostgreSQL database and the Redis broker (the publish goes through Redis and back before the fan-out). Broker injection, the Redis hop, the resume storm and slow consumers use SQLite with the Redis broker.',
    '- **Tokens as users get them, one per client.** The administrator signs in (`POST /api/v1/auth/login`, bootstrapped from `HERALD_ADMIN_PASSWORD`) on a scratch Herald, and exchanges its refresh token (`POST /api/v1/auth/refresh`) once per client: every client connects with its own access token, so no server skips a verification because it saw the token before (Herald caches verified tokens, which a reconnect with the same token benefits from). The references verify the same tokens (HS256, `exp` required, same `JWT_SECRET`). Nothing in the bench builds a token or knows its claims.',
    '- **The fixed cost of a publish**: the same HTTP publish with nobody subscribed (after connecting no one), 8 requests in flight: server CPU ÷ publishes. **System calls** of the server come from `perf stat -e raw_syscalls:sys_enter -p <pids>` over each phase (a kernel tracepoint counter; n/a where perf cannot count).',
    '- **Secondary, labelled: broker injection.** The message is written straight into each server\'s Redis channel (`PUBLISH <prefix>herald:admins` for Herald): no HTTP, no validation, no durable write. No producer takes that path; it isolates the fan-out. It is the only path of the slow-consumer table (16 KiB messages exceed the 2,000-character limit of `POST /api/v1/notifications`).',
    '- Every client counts each delivery in a per-message bitmap (loss and duplicates are exact) and records publish-to-receive latency in 1%-wide buckets (clock: `performance.timeOrigin + performance.now()`, the same in every process).',
    '- Server cost from outside: utime+stime from `/proc/<pid>/stat` over the phase ÷ messages delivered, also shown split into user space (utime: the server\'s own code and runtime) and kernel (stime: socket system calls; on loopback they include the receiving client\'s TCP processing and wake-up); RSS from `/proc/<pid>/status` (nginx: master + worker). Idle memory = RSS after connecting minus RSS before, ÷ connections (the Node servers\' heaps are not forced to collect, so this includes garbage not yet collected).',
    '- "as fast as possible": the whole batch is published back to back; throughput = deliveries ÷ (last receive − first publish). "core use" is CPU time ÷ wall time of the phase for the server and the load generator: a load-generator value near 1.0 means the load generator, not the server, was the limit.',
    '- Herald connects count until `resumed` (connected + replay done); bare ws until its `connected` frame; Socket.IO until the CONNECT ack; Nchan until the WebSocket opens.',
    '- The machine is shared with other sessions (tests, builds): wall-clock figures (latency, rates) vary with their load (see the load average above); CPU µs per delivery/connection is the steadier figure. `--nice=-10` runs every benchmark process at a higher priority than the rest of the machine.',
    '',
  );
  lines.push('## Targets (issue 20)', '', legacy ? 'Measured on the broker-injection path (an older run).' : 'Every fan-out target is measured on the HTTP publish path (a producer\'s `POST`, stored by Herald, then fanned out), side by side with the references publishing over HTTP too, in this one run. Ratios are Herald ÷ reference.', '', targets(results), '');
  lines.push('Scale-out under cgroup quotas, durable personal notifications and 100,000 connections have their targets in their own sections below (100,000 connections: `bench/HUNDREDK.md`).', '');
  const limited = limits(results);
  if (limited.length) lines.push('### What limits the targets not met', '', ...limited, '');
  if (results.fanout && Object.keys(results.fanout).length) {
    lines.push(`## Fan-out published ${legacy ? 'into the broker channel (older run)' : 'over HTTP'}, memory and connect: every target`, '', `↓ lower is better, ↑ higher is better; ratios are Herald ÷ reference. Publish path: ${legacy ? 'broker injection' : 'HTTP'} (see Method).`, '', fanoutTable(results.fanout, P), '');
  }
  lines.push(...durableReport(results.durable));
  if (results.inject && Object.keys(results.inject).length) {
    lines.push(
      '## Secondary: fan-out with messages injected into the broker channel',
      '',
      'Not a path any producer takes (no HTTP, no validation, no durable write; Herald gets `PUBLISH <prefix>herald:admins`). It shows the fan-out alone; the tables above are the ones that describe Herald in use.',
      '',
      fanoutTable(results.inject, P, FANOUT_PHASES(P).slice(2)),
      '',
    );
  }
  if (results.writeDelay) {
    lines.push('## WS_WRITE_DELAY_MS: holding live frames to share writes (Herald, SQLite)', '');
    const w0 = results.writeDelay.runs[0];
    lines.push(`${w0.clients} admin sockets, ${w0.rate} msg/s for ${w0.secs} s, one message per \`POST /api/v1/notifications\`. 0 (the default) flushes live frames when the event loop's current pass ends; a delay holds them that long so later messages share the write, as Centrifugo's \`write_delay\`.`, '');
    lines.push('| WS_WRITE_DELAY_MS | CPU µs per delivery | user / kernel µs | system calls per delivery | p50 ms | p99 ms | max ms | lost / dup |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const w of results.writeDelay.runs) lines.push(`| ${w.delayMs} | ${f(w.cpuUsPerDelivery, 2)} | ${f(w.userUsPerDelivery, 2)} / ${f(w.kernelUsPerDelivery, 2)} | ${f(w.syscallsPerDelivery, 2)} | ${f(w.p50, 2)} | ${f(w.p99, 2)} | ${f(w.max, 2)} | ${w.lost} / ${w.dups} |`);
    lines.push('');
  }
  lines.push(...scaleoutReport(results), ...hundredkReport(results));
  if (results.hop) {
    const h = results.hop;
    lines.push('## The Redis hop (Herald)', '');
    lines.push(`One node, ${h.clients} admin sockets, ${h.rate} persisted notifications/s for ${h.secs} s through \`POST /api/v1/notifications\` (HTTP → store → broker → fan-out), with the in-process broker and with Redis (PUBLISH → the node's own subscription); the runs alternate (memory, Redis, memory, Redis) and the table gives each run; the target above compares the means.`, '');
    lines.push('| run | broker | p50 ms | p90 ms | p99 ms | lost / dup |', '| --- | --- | --- | --- | --- | --- |');
    h.runs.forEach((r, i) => lines.push(`| ${i + 1} | ${r.broker} | ${f(r.p50, 2)} | ${f(r.p90, 2)} | ${f(r.p99, 2)} | ${r.lost} / ${r.dups} |`));
    lines.push('');
  }
  if (results.resume) {
    const r = results.resume;
    lines.push('## Resume storm (Herald)', '');
    lines.push(`${r.clients} admin clients receive ${P.stormMsgs[0]} persisted messages (POST /api/v1/notifications), the node is killed (SIGKILL) and restarted on the same data, ${P.stormMsgs[1]} more are published while the clients are away, then every client reconnects at once with \`since=admins@<its last offset>\` while ${P.stormMsgs[2]} more are published.`, '');
    lines.push('| clients | reconnected | failed for good | reconnect retries (0.25–2 s backoff) | time to all resumed ms | server CPU ms during storm | expected deliveries | delivered | lost | duplicated |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    lines.push(`| ${r.clients} | ${r.reconnected} | ${r.failed} | ${r.retries ?? 0} | ${f(r.allResumedMs, 0)} | ${f(r.cpuMsStorm, 0)} | ${r.expected} | ${r.delivered} | ${r.lost} | ${r.dups} |`, '');
  }
  if (results.slow?.length) {
    lines.push('## Slow consumers', '');
    const s0 = results.slow[0];
    lines.push(`${s0.clients} clients, ${s0.slow} of them stop reading (socket paused); ${s0.rate} msg/s of ${s0.payloadKiB} KiB for ${s0.secs} s, injected into the broker channel (see Method). Herald runs with WS_SEND_BUFFER_BYTES=1 MiB. Latency is of the clients that keep reading.`, '');
    lines.push('| server | p99 before ms | p50 / p99 with slow clients ms | lost / dup (fast clients) | RSS start → peak → end MiB | closes seen by clients |', '| --- | --- | --- | --- | --- | --- |');
    for (const s of results.slow) lines.push(`| ${s.label} | ${f(s.baselineP99, 2)} | ${f(s.p50, 2)} / ${f(s.p99, 2)} | ${s.lost} / ${s.dups} | ${f(s.rssStartMiB, 0)} → ${f(s.rssPeakMiB, 0)} → ${f(s.rssEndMiB, 0)} | ${s.closes} |`);
    lines.push('');
  }
  lines.push('Raw figures: `bench/RESULTS.json`.', '');
  return lines.join('\n');
}
