// Herald's cluster topology without Docker: N `herald serve` processes on local ports,
// nginx in front of them (rendered from deploy/nginx.conf), Redis and PostgreSQL from the
// environment. Used by `npm run cluster` (scripts/cluster.mjs) and by the fault tests
// (packages/server/src/cluster/faults.test.ts).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'packages/server/dist/cli.js');
export const NGINX_TEMPLATE = join(ROOT, 'deploy/nginx.conf');

/** The nginx binary: $NGINX, then PATH, then Debian's /usr/sbin/nginx; undefined when absent. */
export function findNginx() {
  const candidates = [process.env.NGINX, ...(process.env.PATH ?? '').split(':').map((d) => d && join(d, 'nginx')), '/usr/sbin/nginx'];
  return candidates.find((c) => c && existsSync(c));
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function newestMtime(dir, skip) {
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
export function buildIsStale() {
  if (!existsSync(CLI)) return true;
  const built = statSync(CLI).mtimeMs;
  const skip = (name) => name.endsWith('.test.ts') || name.startsWith('test-');
  return ['packages/server/src', 'packages/protocol/src'].some((dir) => newestMtime(join(ROOT, dir), skip) > built);
}

/** Compiles the server (and the protocol it depends on) when dist is missing or stale. */
export function ensureBuilt({ log = () => {} } = {}) {
  if (!buildIsStale()) return false;
  log('building packages/server (npx tsc -b packages/server)…');
  const result = spawnSync('npx', ['tsc', '-b', 'packages/server'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0 && !existsSync(CLI)) {
    throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  }
  if (result.status !== 0) log(`tsc reported errors (using the emitted dist anyway):\n${result.stdout}${result.stderr}`);
  return true;
}

/**
 * deploy/nginx.conf rendered for a local run: the lines marked `herald:` get local paths,
 * the listen address and the upstream servers; everything else is the deployed file.
 */
export function renderNginxConf({ listen, upstreams, dir, maxFails = 3, failTimeout = '10s', workers = 1, accessLog = false }) {
  const template = readFileSync(NGINX_TEMPLATE, 'utf8');
  const lines = template.split('\n');
  const out = [];
  let inUpstream = false;
  const replaceMarked = (line, marker, replacement) => (line.includes(`# herald:${marker}`) ? replacement : undefined);
  for (const line of lines) {
    if (line.includes('# herald:upstream_begin')) {
      inUpstream = true;
      out.push(line);
      for (const upstream of upstreams) out.push(`        server ${upstream} max_fails=${maxFails} fail_timeout=${failTimeout};`);
      continue;
    }
    if (line.includes('# herald:upstream_end')) {
      inUpstream = false;
      out.push(line);
      continue;
    }
    if (inUpstream) continue;
    const replaced =
      replaceMarked(line, 'pid', `pid ${join(dir, 'nginx.pid')};`) ??
      replaceMarked(line, 'error_log', `error_log ${join(dir, 'error.log')} warn;`) ??
      replaceMarked(line, 'access_log', accessLog ? `    access_log ${join(dir, 'access.log')} herald;` : '    access_log off;') ??
      replaceMarked(
        line,
        'temp_paths',
        ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `    ${name}_temp_path ${join(dir, `${name}_temp`)};`).join('\n'),
      ) ??
      replaceMarked(line, 'listen', `        listen ${listen};`);
    if (replaced !== undefined) out.push(replaced);
    else if (/^worker_processes\b/.test(line)) out.push(`worker_processes ${workers};`);
    else out.push(line);
  }
  for (const marker of ['pid', 'error_log', 'access_log', 'temp_paths', 'listen', 'upstream_begin', 'upstream_end']) {
    if (!template.includes(`# herald:${marker}`)) throw new Error(`deploy/nginx.conf lost its "# herald:${marker}" marker`);
  }
  return out.join('\n');
}

/** Polls `check` until it returns true; `fatal()` returning an error ends the wait at once. */
async function waitFor(check, timeoutMs, what, fatal = () => undefined) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    const stop = fatal();
    if (stop) throw stop;
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function httpOk(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await res.arrayBuffer();
  return res.ok;
}

/** The last lines a child wrote, for error messages. */
function tail(buffer) {
  return buffer.join('').split('\n').slice(-30).join('\n');
}

/**
 * One `herald serve` process. `restart()` starts it again on the same port (optionally with
 * a new NODE_ID and extra environment), `stop(signal)` resolves once it has exited.
 */
class HeraldNode {
  constructor({ index, port, env, dir, log }) {
    this.index = index;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.baseEnv = env;
    this.dir = dir;
    this.log = log;
    this.generation = 0;
    this.proc = undefined;
    this.exited = Promise.resolve({ code: 0, signal: null });
    this.output = [];
  }

  get nodeId() {
    return this.env.NODE_ID;
  }

  async start(extraEnv = {}) {
    this.generation += 1;
    this.env = { ...this.baseEnv, NODE_ID: `node-${this.index + 1}${this.generation > 1 ? `-g${this.generation}` : ''}`, ...extraEnv, PORT: String(this.port) };
    const logFile = createWriteStream(join(this.dir, `node-${this.index + 1}.log`), { flags: 'a' });
    const proc = spawn(process.execPath, [CLI, 'serve'], { cwd: ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.output = [];
    const record = (chunk) => {
      logFile.write(chunk);
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    proc.stdout.on('data', record);
    proc.stderr.on('data', record);
    this.exited = new Promise((resolveExit) =>
      proc.once('exit', (code, signal) => {
        logFile.end();
        resolveExit({ code, signal });
      }),
    );
    let exitedEarly = false;
    void this.exited.then(() => (exitedEarly = true));
    await waitFor(
      () => httpOk(`${this.url}/healthz`),
      30_000,
      `${this.nodeId} on ${this.url}`,
      () => (exitedEarly ? new Error(`node ${this.nodeId} exited during start-up`) : undefined),
    ).catch((error) => {
      if (!exitedEarly) proc.kill('SIGKILL');
      throw new Error(`${error.message}:\n${tail(this.output)}`);
    });
    this.log(`${this.nodeId} listening on ${this.url} (pid ${proc.pid})`);
    return this;
  }

  get running() {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and resolves with the exit once the process is gone. */
  async stop(signal = 'SIGTERM') {
    if (!this.running) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.running && this.proc.kill('SIGKILL'), 15_000);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  restart(extraEnv = {}) {
    return this.start(extraEnv);
  }
}

/** nginx in the foreground with a rendered configuration under `dir`. */
class Nginx {
  constructor({ bin, dir, listen, upstreams, log, renderOptions }) {
    this.bin = bin;
    this.dir = dir;
    this.listen = listen;
    this.upstreams = upstreams;
    this.log = log;
    this.renderOptions = renderOptions;
    this.confPath = join(dir, 'nginx.conf');
    this.output = [];
  }

  async start() {
    writeFileSync(this.confPath, renderNginxConf({ listen: this.listen, upstreams: this.upstreams, dir: this.dir, ...this.renderOptions }));
    const check = spawnSync(this.bin, ['-t', '-q', '-p', this.dir, '-c', this.confPath, '-g', 'daemon off;'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx rejected ${this.confPath}:\n${check.stderr}`);
    const proc = spawn(this.bin, ['-p', this.dir, '-c', this.confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const record = (chunk) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    proc.stdout.on('data', record);
    proc.stderr.on('data', record);
    this.exited = new Promise((resolveExit) => proc.once('exit', (code, signal) => resolveExit({ code, signal })));
    let exited = false;
    void this.exited.then(() => (exited = true));
    await waitFor(
      () => httpOk(`http://${this.listen}/healthz`),
      15_000,
      `nginx on ${this.listen}`,
      () => (exited ? new Error(`nginx exited:\n${tail(this.output)}${this.errorLog()}`) : undefined),
    );
    this.log(`nginx listening on http://${this.listen} (pid ${proc.pid}) → ${this.upstreams.join(', ')}`);
  }

  errorLog() {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGQUIT'); // graceful: finish requests, then exit
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Starts nginx on `port` in front of `nodes` Herald nodes.
 *
 * Options: nodes (2), port (8080; 0 = a free one), host ('127.0.0.1'), nodePorts (default: free
 * ports), redisUrl / databaseUrl (default $REDIS_URL / $DATABASE_URL, then the local services),
 * jwtSecret (default $JWT_SECRET, else generated), env (extra environment for every node),
 * dir (default a new temp dir, removed by stop()), build (true: compile when stale),
 * nginxOptions (maxFails, failTimeout, workers, accessLog), log (a function, default silent).
 */
export async function startCluster(options = {}) {
  const log = options.log ?? (() => {});
  const nginxBin = options.nginx ?? findNginx();
  if (!nginxBin) throw new Error('nginx not found (install Debian\'s nginx-light, or set NGINX=/path/to/nginx)');
  if (options.build !== false) ensureBuilt({ log });
  const count = options.nodes ?? 2;
  const host = options.host ?? '127.0.0.1';
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'herald-cluster-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // nginx workers (nobody) must reach their temp dirs
  const jwtSecret = options.jwtSecret ?? process.env.JWT_SECRET ?? randomBytes(32).toString('hex');
  if (!options.jwtSecret && !process.env.JWT_SECRET) writeFileSync(join(dir, 'jwt-secret'), jwtSecret, { mode: 0o600 });
  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    REDIS_URL: options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATABASE_URL: options.databaseUrl ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    JWT_SECRET: jwtSecret,
    TRUST_PROXY: 'true',
    DATA_DIR: join(dir, 'data'),
    ...options.env,
  };
  delete env.PORT;
  delete env.NODE_ID;
  const port = options.port === 0 ? await freePort() : options.port ?? 8080;
  const nodePorts = options.nodePorts ?? (await Promise.all(Array.from({ length: count }, () => freePort())));
  const nodes = nodePorts.map((p, index) => new HeraldNode({ index, port: p, env, dir, log }));
  const nginx = new Nginx({ bin: nginxBin, dir, listen: `${host}:${port}`, upstreams: nodePorts.map((p) => `127.0.0.1:${p}`), log, renderOptions: options.nginxOptions ?? {} });
  const cluster = {
    dir,
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}`,
    port,
    nodes,
    nginx,
    jwtSecret,
    env,
    async stop() {
      await nginx.stop().catch(() => undefined);
      await Promise.all(nodes.map((n) => n.stop('SIGTERM').catch(() => undefined)));
      if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    // The first node migrates the schema alone; the others then start together.
    if (nodes.length > 0) await nodes[0].start();
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    await nginx.start();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}
