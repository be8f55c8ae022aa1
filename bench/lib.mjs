// Helpers shared by the benchmark driver and the soak: processes, /proc readings, percentiles.
// Herald processes, Redis, free ports and clusters come from @herald/testing (compiled on load).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadTesting } from '../scripts/testing.mjs';

export const testing = await loadTesting();
export const { freePort, sleep, waitForPort } = testing;
export const now = () => performance.timeOrigin + performance.now();
export const CORES = Number(execFileSync('nproc').toString().trim());
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Every child process we started, killed on exit whatever happens. */
export const children = new Set();

export function killAll() {
  for (const child of children) {
    child.expectedExit = true;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  children.clear();
}

export const options = { nice: 0 };

/** The command prefix that pins a process to `core` (taskset) at the chosen priority (nice). */
export function wrapperFor(core) {
  return [...(options.nice !== 0 ? ['nice', '-n', String(options.nice)] : []), ...(core === undefined || CORES < 2 ? [] : ['taskset', '-c', String(core)])];
}

/** Tracks a child for killAll() and reports it when it dies unexpectedly. */
export function watch(name, child, logDir) {
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    // A target that dies mid-run is worth knowing about: its figures below are then void.
    if (!child.expectedExit) console.error(`bench: ${name} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}; log in ${logDir}`);
  });
  child.benchName = name;
  return child;
}

/** Spawns `cmd args` (not Herald: see @herald/testing's spawnHerald), pinned to `core` when given; output goes to a log file. */
export function start(name, cmd, args, { env = {}, core, logDir, ipc = false } = {}) {
  const log = openSync(join(logDir, `${name}.log`), 'a');
  const argv = [...wrapperFor(core), cmd, ...args];
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
  });
  closeSync(log);
  if (ipc) child.expectedExit = true; // load workers report their own failures over IPC
  return watch(name, child, logDir);
}

export async function stop(child, signal = 'SIGTERM', graceMs = 5000) {
  child.expectedExit = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** CPU time (user+system) of a process, in µs. */
export function cpuUs(pid) {
  const { user, kernel } = cpuSplitUs(pid);
  return user + kernel;
}

/**
 * CPU time of a process split into user space (utime) and the kernel (stime), in µs. On
 * loopback the kernel time of a sender includes the receiver's TCP processing and wake-up.
 */
export function cpuSplitUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) * 1e6) / CLK_TCK, kernel: (Number(fields[12]) * 1e6) / CLK_TCK };
  } catch {
    return { user: 0, kernel: 0 };
  }
}

let perfWorks;
/** Whether `perf` can count system calls here (the raw_syscalls tracepoint). */
export function syscallCounting() {
  perfWorks ??= spawnSync('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '--', 'true'], { encoding: 'utf8' }).stderr?.match(/^\d+,/m) !== null;
  return perfWorks;
}

/**
 * Counts the system calls of `pids` (every thread) from now until the returned function is
 * called (it resolves once perf counts): `perf stat -e raw_syscalls:sys_enter -p …`, a kernel
 * tracepoint counter. The function resolves to the count, or NaN where perf cannot count here.
 */
export async function countSyscalls(pids) {
  if (pids.length === 0 || !syscallCounting()) return async () => NaN;
  const child = spawn('perf', ['stat', '-x,', '-e', 'raw_syscalls:sys_enter', '-p', pids.join(',')], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.expectedExit = true;
  let err = '';
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await sleep(300); // perf attaches to every thread before it counts
  return async () => {
    child.kill('SIGINT');
    await exited;
    children.delete(child);
    const m = /^(\d+|<not counted>),[^\n]*raw_syscalls/m.exec(err); // `<not counted>`: none were made
    return m ? (m[1].startsWith('<') ? 0 : Number(m[1])) : NaN;
  };
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** The process and its direct children (nginx master + workers). */
export function withChildren(pid) {
  const pids = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

export const sum = (xs) => xs.reduce((a, b) => a + b, 0);

const LN = Math.log(1.01);
/** Percentile (ms) from merged 1%-wide µs buckets. */
export function percentile(hist, total, p) {
  if (total === 0) return NaN;
  const want = Math.ceil(total * p);
  let seen = 0;
  for (let b = 0; b < hist.length; b++) {
    seen += hist[b];
    if (seen >= want) return Math.exp((b + 1) * LN) / 1000;
  }
  return NaN;
}

/** What a phase reports of the clients' merged counts: deliveries, loss, duplicates and latency percentiles (ms). */
export const deliveryFigures = (s) => ({ delivered: s.received, lost: s.lost, dups: s.dups, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max });

export function mergeStats(list) {
  const hist = new Array(list[0].hist.length).fill(0);
  const out = { clients: 0, ready: 0, armed: 0, expected: 0, received: 0, dups: 0, stale: 0, wrong: 0, lost: 0, lastRecvAt: 0, maxLat: 0, closes: {} };
  for (const s of list) {
    for (const k of ['clients', 'ready', 'armed', 'expected', 'received', 'dups', 'stale', 'wrong', 'lost']) out[k] += s[k] ?? 0;
    out.lastRecvAt = Math.max(out.lastRecvAt, s.lastRecvAt);
    out.maxLat = Math.max(out.maxLat, s.maxLat);
    for (let i = 0; i < hist.length; i++) hist[i] += s.hist[i];
    for (const [code, n] of Object.entries(s.closes)) out.closes[code] = (out.closes[code] ?? 0) + n;
  }
  out.p50 = percentile(hist, out.received, 0.5);
  out.p90 = percentile(hist, out.received, 0.9);
  out.p99 = percentile(hist, out.received, 0.99);
  out.max = out.maxLat / 1000;
  return out;
}
