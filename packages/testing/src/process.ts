// The one way Herald processes are started outside a test's own process: `herald serve`
// (and other CLI commands) from packages/server/dist, used by clusters, the bench and the soak.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpOk } from './ports.js';
import { sleep } from './wait.js';

/** The repository root (this file is packages/testing/{src,dist}/process.*). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CLI = join(ROOT, 'packages/server/dist/cli.js');

// Whatever a test or script forgets to stop dies with it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Registers a child so it is killed when this process exits. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

function newestMtime(dir: string, skip: (name: string) => boolean): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, skip));
    else if (!skip(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether packages/server/dist is missing or older than the server's or protocol's sources. */
export function buildIsStale(): boolean {
  if (!existsSync(CLI)) return true;
  const built = statSync(CLI).mtimeMs;
  const skip = (name: string) => name.endsWith('.test.ts') || name.startsWith('test-');
  return ['packages/server/src', 'packages/protocol/src'].some((dir) => newestMtime(join(ROOT, dir), skip) > built);
}

/** Compiles the server (and the protocol it depends on) when dist is missing or stale. */
export function ensureBuilt({ log = () => {} }: { log?: (line: string) => void } = {}): boolean {
  if (!buildIsStale()) return false;
  log('building packages/server (tsc -b packages/server)…');
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-b', 'packages/server'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0 && !existsSync(CLI)) throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  if (result.status !== 0) log(`tsc reported errors (using the emitted dist anyway):\n${result.stdout}${result.stderr}`);
  return true;
}

/** Runs a one-shot `herald <args>` command (user add, token, …) with `env` and returns its output. */
export function heraldCli(args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

export interface HeraldProcessOptions {
  port: number;
  /** The child's complete environment (PORT is set from `port`). */
  env: NodeJS.ProcessEnv;
  /** NODE_ID for the n-th start (1-based); default: the environment's. */
  nodeId?: (generation: number) => string;
  /** CLI arguments (default `serve`). */
  args?: string[];
  /** Node flags before the CLI path (e.g. `--inspect=127.0.0.1:9229`, `--cpu-prof`). */
  nodeArgs?: string[];
  /** A command prefix, e.g. `['taskset', '-c', '0']` or `['nice', '-n', '5']` (must exec node, so the pid stays node's). */
  wrapper?: string[];
  /** Output is appended to this file. */
  logFile?: string;
  /** Path polled until it answers 2xx (default `/healthz`). */
  readyPath?: string;
  /** Default 60 s. */
  readyTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called with every child spawned (on start and each restart). */
  onSpawn?: (child: ChildProcess) => void;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `herald serve` process: `start()`, `stop(signal)` (resolves once it exited), `restart()` on the same port. */
export class HeraldProcess {
  readonly port: number;
  readonly url: string;
  generation = 0;
  env: NodeJS.ProcessEnv = {};
  proc: ChildProcess | undefined;
  exited: Promise<Exit> = Promise.resolve({ code: 0, signal: null });
  /** The last chunks the process wrote (stdout and stderr), for error messages. */
  output: string[] = [];
  readonly #options: HeraldProcessOptions;

  constructor(options: HeraldProcessOptions) {
    this.#options = options;
    this.port = options.port;
    this.url = `http://127.0.0.1:${options.port}`;
  }

  /** NODE_ID of the current start ('' when the environment sets none: the server picks one). */
  get nodeId(): string {
    return this.env.NODE_ID ?? '';
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the process with `extraEnv` over the base environment and waits until it is ready. */
  async start(extraEnv: Record<string, string> = {}): Promise<this> {
    const o = this.#options;
    this.generation += 1;
    this.env = { ...o.env, ...(o.nodeId ? { NODE_ID: o.nodeId(this.generation) } : {}), ...extraEnv, PORT: String(this.port) };
    const argv = [...(o.wrapper ?? []), process.execPath, ...(o.nodeArgs ?? []), CLI, ...(o.args ?? ['serve'])];
    const proc = track(spawn(argv[0], argv.slice(1), { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc = proc;
    o.onSpawn?.(proc);
    this.output = [];
    const logFile = o.logFile ? createWriteStream(o.logFile, { flags: 'a' }) : undefined;
    const record = (chunk: Buffer) => {
      logFile?.write(chunk);
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    proc.stdout!.on('data', record);
    proc.stderr!.on('data', record);
    let exitedEarly = false;
    this.exited = new Promise((resolveExit) =>
      proc.once('exit', (code, signal) => {
        exitedEarly = true;
        logFile?.end();
        resolveExit({ code, signal });
      }),
    );
    // Generous: on a loaded 2-core machine a node takes 10–20 s to start (PostgreSQL migrations, module loading).
    const timeoutMs = o.readyTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    const name = this.nodeId || `herald on ${this.url}`;
    while (!(await httpOk(`${this.url}${o.readyPath ?? '/healthz'}`))) {
      const failure = exitedEarly ? `${name} exited during start-up` : Date.now() > deadline ? `timed out after ${timeoutMs} ms waiting for ${name}` : undefined;
      if (failure) {
        if (!exitedEarly) proc.kill('SIGKILL');
        throw new Error(`${failure}:\n${this.tail()}`);
      }
      await sleep(50);
    }
    o.log?.(`${name} listening on ${this.url} (pid ${proc.pid})`);
    return this;
  }

  /** Sends `signal` (SIGKILL after `graceMs`) and resolves with the exit once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> {
    const proc = this.proc;
    if (!proc || !this.running) return this.exited;
    proc.kill(signal);
    const timer = setTimeout(() => this.running && proc.kill('SIGKILL'), graceMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  restart(extraEnv: Record<string, string> = {}): Promise<this> {
    return this.start(extraEnv);
  }

  /** The last lines the process wrote. */
  tail(lines = 30): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}

/** Starts `herald serve` (or `options.args`) and resolves once it answers `/healthz`. */
export function spawnHerald(options: HeraldProcessOptions): Promise<HeraldProcess> {
  return new HeraldProcess(options).start();
}
