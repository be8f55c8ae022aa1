// Renders bench/RESULTS.md from the results object of run.mjs.
import { hundredkReport, scaleoutReport } from './scaleout.mjs';
const f = (x, d = 1) => (typeof x !== 'number' || !Number.isFinite(x) ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(d));
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : 'n/a');
const KINDS = ['herald', 'herald-sse', 'ws', 'sio', 'nchan'];
const NAMES = { herald: 'Herald', 'herald-sse': 'Herald over SSE', ws: 'bare ws', sio: 'Socket.IO 4.8', nchan: 'nginx+Nchan' };

const FANOUT_PHASES = (P) => [
  ['big', `fan-out ${P.big} sockets @ ${P.rateBig} msg/s × ${P.secsBig} s`],
  ['bigMax', `fan-out ${P.big} sockets, ${P.burstBig} msgs as fast as possible`],
  ['small', `fan-out ${P.small} sockets @ ${P.rateSmall} msg/s × ${P.secsSmall} s`],
  ['smallMax', `fan-out ${P.small} sockets, ${P.burstSmall} msgs as fast as possible`],
];

function fanoutTable(res, P, phases = FANOUT_PHASES(P)) {
  const kinds = KINDS.filter((k) => res[k]);
  const refs = kinds.filter((k) => k !== 'herald');
  const rows = [];
  const row = (scenario, metric, get, digits = 1, lowerIsBetter = true) => {
    const vals = kinds.map((k) => get(res[k]));
    const h = res.herald ? get(res.herald) : undefined;
    rows.push(`| ${scenario} | ${metric}${lowerIsBetter ? ' ↓' : ' ↑'} | ${vals.map((v) => (typeof v === 'string' ? v : f(v, digits))).join(' | ')} | ${res.herald ? refs.map((k) => ratio(h, get(res[k]))).join(' | ') : ''} |`);
  };
  const lossRow = (scenario, key) => row(scenario, 'lost (undelivered after 20-60 s) / duplicated', (r) => (r[key] ? `${r[key].lost} / ${r[key].dups}` : 'n/a'));
  if (kinds.some((k) => res[k].connect)) {
    row(`connect + auth, ${P.big} sockets (${P.connConc}×${4} in flight)`, 'connections/s', (r) => r.connect?.perSec, 0, false);
    row('', 'server CPU µs per connection', (r) => r.connect?.cpuUsPerConn, 0);
    row(`idle, ${P.big} authenticated sockets`, 'server RSS bytes per connection', (r) => r.idle?.bytesPerConn, 0);
  }
  for (const [key, label] of phases) {
    row(label, 'server CPU µs per delivery', (r) => r[key]?.cpuUsPerDelivery, 2);
    row('', '… of which user space (the server\'s own code)', (r) => r[key]?.userUsPerDelivery, 2);
    row('', '… of which kernel (socket writes, loopback TCP)', (r) => r[key]?.kernelUsPerDelivery, 2);
    if (key.endsWith('Max')) row('', 'deliveries/s', (r) => r[key]?.deliveriesPerSec, 0, false);
    row('', 'latency p50 ms', (r) => r[key]?.p50, 2);
    row('', 'latency p90 ms', (r) => r[key]?.p90, 2);
    row('', 'latency p99 ms', (r) => r[key]?.p99, 2);
    row('', 'latency max ms', (r) => r[key]?.max, 2);
    row('', 'server / load-generator core use', (r) => (r[key] ? `${f(r[key].serverCoreUse, 2)} / ${f(r[key].loadCoreUse, 2)}` : 'n/a'));
    lossRow('', key);
  }
  return [
    `| scenario | metric | ${kinds.map((k) => NAMES[k]).join(' | ')} | ${res.herald ? refs.map((k) => `Herald ÷ ${NAMES[k]}`).join(' | ') : ''} |`,
    `| --- | --- | ${kinds.map(() => '---').join(' | ')} | ${res.herald ? refs.map(() => '---').join(' | ') : ''} |`,
    ...rows,
  ].join('\n');
}

function targets(results) {
  const N = results.params.big.toLocaleString('en');
  const r = results.fanout ?? {};
  const h = r.herald;
  const out = [];
  const add = (goal, measured, met) => out.push(`| ${goal} | ${measured} | ${met === undefined ? 'not measured' : met ? '**met**' : '**not met**'} |`);
  if (h && r.ws) {
    const a = h.bigMax?.cpuUsPerDelivery;
    const b = r.ws.bigMax?.cpuUsPerDelivery;
    add(`CPU per delivery at ${N} sockets (as fast as possible) ≤ 0.8× bare ws`, `${f(a, 2)} vs ${f(b, 2)} µs = ${ratio(a, b)}`, a <= 0.8 * b);
  }
  if (h && r.ws) {
    const a = h.big?.cpuUsPerDelivery;
    const b = r.ws.big?.cpuUsPerDelivery;
    add(`CPU per delivery at ${N} sockets (fixed rate) ≤ 0.8× bare ws`, `${f(a, 2)} vs ${f(b, 2)} µs = ${ratio(a, b)}`, a <= 0.8 * b);
  }
  if (h && r.nchan) {
    const a = h.big?.cpuUsPerDelivery;
    const b = r.nchan.big?.cpuUsPerDelivery;
    add(`CPU per delivery at ${N} sockets (fixed rate) ≤ Nchan`, `${f(a, 2)} vs ${f(b, 2)} µs = ${ratio(a, b)}`, a <= b);
  }
  if (h && r.nchan) {
    const a = h.bigMax?.cpuUsPerDelivery;
    const b = r.nchan.bigMax?.cpuUsPerDelivery;
    add(`CPU per delivery at ${N} sockets (as fast as possible) ≤ Nchan`, `${f(a, 2)} vs ${f(b, 2)} µs = ${ratio(a, b)}`, a <= b);
  }
  if (h && r.ws) {
    const a = h.idle?.bytesPerConn;
    const b = r.ws.idle?.bytesPerConn;
    add('idle memory per connection ≤ 1.25× bare ws', `${f(a, 0)} vs ${f(b, 0)} B = ${ratio(a, b)}`, a <= 1.25 * b);
    const c = h.small?.p99;
    const d = r.ws.small?.p99;
    add('p99 at 1,000 sockets / 50 msg/s ≤ bare ws', `${f(c, 2)} vs ${f(d, 2)} ms = ${ratio(c, d)}`, c <= d);
    const e = h.connect?.cpuUsPerConn;
    const g = r.ws.connect?.cpuUsPerConn;
    add('connect+auth CPU per connection ≤ 1.5× bare ws', `${f(e, 0)} vs ${f(g, 0)} µs = ${ratio(e, g)}`, e <= 1.5 * g);
  }
  if (results.hop) {
    const { memory, redis } = results.hop;
    add('the Redis hop adds ≤ 2 ms to p50 (same node and publish path, Redis vs in-process broker)', `${f(redis.p50, 2)} vs ${f(memory.p50, 2)} ms: +${f(redis.p50 - memory.p50, 2)} ms`, redis.p50 - memory.p50 <= 2);
  }
  const losses = [];
  for (const [k, v] of Object.entries(r)) for (const key of ['big', 'bigMax', 'small', 'smallMax']) if (v[key]) losses.push([`${k}.${key}`, v[key].lost + v[key].dups]);
  for (const c of results.scaleout?.runs ?? []) losses.push([`cluster${c.nodes}`, c.lost + c.dups + c.expected - c.delivered]);
  if (results.hundredk) losses.push(['hundredk', results.hundredk.lost + results.hundredk.dups + results.hundredk.expected - results.hundredk.delivered]);
  for (const key of ['small', 'smallMax']) if (results.inject?.herald?.[key]) losses.push([`inject.${key}`, results.inject.herald[key].lost + results.inject.herald[key].dups]);
  if (results.resume) losses.push(['resume', results.resume.lost + results.resume.dups]);
  for (const [i, run] of (results.hop?.runs ?? []).entries()) losses.push([`hop${i + 1}`, run.lost + run.dups]);
  const herLoss = losses.filter(([k]) => k.startsWith('herald') || k.startsWith('cluster') || k === 'hundredk' || k.startsWith('hop') || k.startsWith('inject') || k === 'resume');
  add('0 lost or duplicated (Herald, every scenario)', herLoss.map(([k, n]) => `${k}: ${n}`).join(', '), herLoss.every(([, n]) => n === 0));
  return ['| target | measured (Herald vs reference) | |', '| --- | --- | --- |', ...out].join('\n');
}

/** For each target not met, what the measurements say limits it (generated from the same run). */
function limits(results) {
  const r = results.fanout ?? {};
  const h = r.herald?.big;
  const out = [];
  const kernelBound = (ref, goal, name) => {
    if (!h || !ref || h.cpuUsPerDelivery <= goal) return;
    out.push(
      `- **Fixed-rate CPU per delivery vs ${name}** (${f(h.cpuUsPerDelivery, 2)} vs ${f(ref.cpuUsPerDelivery, 2)} µs; goal ≤ ${f(goal, 2)}): ` +
        `Herald's own code costs ${f(h.userUsPerDelivery, 2)} µs per delivery in user space against ${f(ref.userUsPerDelivery, 2)} µs for ${name} (${ratio(h.userUsPerDelivery, ref.userUsPerDelivery)}); ` +
        `the kernel costs ${f(h.kernelUsPerDelivery, 2)} µs for Herald and ${f(ref.kernelUsPerDelivery, 2)} µs for ${name}: ${f((100 * h.kernelUsPerDelivery) / h.cpuUsPerDelivery, 0)} % of Herald's total. ` +
        `At ${results.params.rateBig} msg/s one message is due per socket per turn, so each delivery is one write() of one frame, and on loopback the sender's system time also carries the receiving client's TCP processing and wake-up (Herald also pings every socket every 30 s and reads the pongs, which the references do not). ` +
        (h.kernelUsPerDelivery >= goal
          ? `The goal is below Herald's kernel cost alone: only fewer writes per delivery can reach it, i.e. holding messages back to send several per write, which adds latency (Herald batches when messages are due in the same turn: see the as-fast-as-possible rows).`
          : `To reach it with the same kernel cost, Herald's user-space share would have to fall to ${f(goal - h.kernelUsPerDelivery, 2)} µs (${ratio(goal - h.kernelUsPerDelivery, ref.userUsPerDelivery)} of ${name}'s), below what ${name} itself spends per write in user space on a payload it never parses.`),
    );
  };
  if (r.ws) kernelBound(r.ws.big, 0.8 * (r.ws.big?.cpuUsPerDelivery ?? 0), 'bare ws');
  if (r.nchan) kernelBound(r.nchan.big, r.nchan.big?.cpuUsPerDelivery ?? 0, 'Nchan');
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
  lines.push('## Commands', '', '```', 'npm ci', 'npm run bench        # quick: node bench/run.mjs (4,000 and 1,000 sockets for every target + a 1,000-client resume storm)', 'npm run bench:full   # node bench/run.mjs --full (adds scale-out 1/2/4 nodes under equal cgroup quotas, 100,000 connections, 10,000-client resume storm, slow consumers, broker injection)', '```', '');
  lines.push(
    '## Method',
    '',
    '- Servers are pinned to core 0 (`taskset -c 0`; nginx with one worker), the load generator (4 worker processes, each with its own source address 127.0.0.2–5, ~2,500 sockets each), Redis and the driver to core 1. Only 127.0.0.0/8 is used.',
    '- **Publish path (every headline table): HTTP, as a producer sends.** Herald gets `POST /api/v1/notifications` with the service key (validated, stored, then fanned out to the admin sockets as a `system_message`); the bare `ws` and Socket.IO servers get `POST /publish` and broadcast the body as it is (a JSON message in Herald\'s `transcode_progress` shape); Nchan gets a POST to its publisher location (its own in-memory pub/sub: no JWT check on subscribe). Every message carries `#B<seq>:<send time µs>#` in `message`, stamped before the request, so latency includes the HTTP request and, for Herald, the durable write.',
    '- **Tokens as users get them.** Herald\'s clients sign in with `POST /api/v1/auth/login` (the administrator bootstrapped from `HERALD_ADMIN_PASSWORD`); the references verify (HS256, `exp` required) a token issued by `herald token` with the same secret. Nothing in the bench builds a token or knows its claims.',
    '- **Secondary, labelled: broker injection.** The message is written straight into each server\'s Redis channel (`PUBLISH <prefix>herald:admins` for Herald): no HTTP, no validation, no durable write. No producer takes that path; it isolates the fan-out. It is the only path of the slow-consumer table (16 KiB messages exceed the 2,000-character limit of `POST /api/v1/notifications`).',
    '- Every client counts each delivery in a per-message bitmap (loss and duplicates are exact) and records publish-to-receive latency in 1%-wide buckets (clock: `performance.timeOrigin + performance.now()`, the same in every process).',
    '- Server cost from outside: utime+stime from `/proc/<pid>/stat` over the phase ÷ messages delivered, also shown split into user space (utime: the server\'s own code and runtime) and kernel (stime: socket system calls; on loopback they include the receiving client\'s TCP processing and wake-up); RSS from `/proc/<pid>/status` (nginx: master + worker). Idle memory = RSS after connecting minus RSS before, ÷ connections (the Node servers\' heaps are not forced to collect, so this includes garbage not yet collected).',
    '- "as fast as possible": the whole batch is published back to back; throughput = deliveries ÷ (last receive − first publish). "core use" is CPU time ÷ wall time of the phase for the server and the load generator: a load-generator value near 1.0 means the load generator, not the server, was the limit.',
    '- Herald connects count until `resumed` (connected + replay done); bare ws until its `connected` frame; Socket.IO until the CONNECT ack; Nchan until the WebSocket opens.',
    '- The machine is shared with other sessions (tests, builds): wall-clock figures (latency, rates) vary with their load (see the load average above); CPU µs per delivery/connection is the steadier figure. `--nice=-10` runs every benchmark process at a higher priority than the rest of the machine.',
    '',
  );
  lines.push('## Targets (issue 8)', '', legacy ? 'Measured on the broker-injection path (an older run).' : 'Measured on the HTTP publish path.', '', targets(results), '');
  const limited = limits(results);
  if (limited.length) lines.push('### What limits the targets not met', '', ...limited, '');
  if (results.fanout && Object.keys(results.fanout).length) {
    lines.push(`## Fan-out published ${legacy ? 'into the broker channel (older run)' : 'over HTTP'}, memory and connect: every target`, '', `↓ lower is better, ↑ higher is better; ratios are Herald ÷ reference. Publish path: ${legacy ? 'broker injection' : 'HTTP'} (see Method).`, '', fanoutTable(results.fanout, P), '');
  }
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
