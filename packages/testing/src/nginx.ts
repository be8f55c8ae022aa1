// nginx in front of Herald nodes, rendered from deploy/nginx.conf (the deployed file, with the
// lines marked `# herald:` replaced by local paths, the listen address and the upstreams).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpOk } from './ports.js';
import { ROOT, track, type Exit } from './process.js';
import { sleep } from './wait.js';

export const NGINX_TEMPLATE = join(ROOT, 'deploy/nginx.conf');

/** The nginx binary: $NGINX, then PATH, then Debian's /usr/sbin/nginx; undefined when absent. */
export function findNginx(): string | undefined {
  const candidates = [process.env.NGINX, ...(process.env.PATH ?? '').split(':').map((d) => d && join(d, 'nginx')), '/usr/sbin/nginx'];
  return candidates.find((c): c is string => Boolean(c) && existsSync(c!));
}

export interface NginxRenderOptions {
  maxFails?: number;
  failTimeout?: string;
  workers?: number;
  accessLog?: boolean;
}

/** deploy/nginx.conf rendered for a local run under `dir`. */
export function renderNginxConf({ listen, upstreams, dir, maxFails = 3, failTimeout = '10s', workers = 1, accessLog = false }: { listen: string; upstreams: string[]; dir: string } & NginxRenderOptions): string {
  const template = readFileSync(NGINX_TEMPLATE, 'utf8');
  const out: string[] = [];
  let inUpstream = false;
  const marked = (line: string, marker: string, replacement: string) => (line.includes(`# herald:${marker}`) ? replacement : undefined);
  for (const line of template.split('\n')) {
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
      marked(line, 'pid', `pid ${join(dir, 'nginx.pid')};`) ??
      marked(line, 'error_log', `error_log ${join(dir, 'error.log')} crit;`) ??
      marked(line, 'access_log', accessLog ? `    access_log ${join(dir, 'access.log')} herald;` : '    access_log off;') ??
      marked(line, 'temp_paths', ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `    ${name}_temp_path ${join(dir, `${name}_temp`)};`).join('\n')) ??
      marked(line, 'listen', `        listen ${listen};`);
    if (replaced !== undefined) out.push(replaced);
    else if (/^worker_processes\b/.test(line)) out.push(`worker_processes ${workers};`);
    else out.push(line);
  }
  for (const marker of ['pid', 'error_log', 'access_log', 'temp_paths', 'listen', 'upstream_begin', 'upstream_end']) {
    if (!template.includes(`# herald:${marker}`)) throw new Error(`deploy/nginx.conf lost its "# herald:${marker}" marker`);
  }
  return out.join('\n');
}

/** nginx in the foreground with a configuration rendered under `dir`. */
export class Nginx {
  readonly confPath: string;
  proc: ChildProcess | undefined;
  exited: Promise<Exit> = Promise.resolve({ code: 0, signal: null });
  output: string[] = [];

  constructor(
    readonly options: { bin: string; dir: string; listen: string; upstreams: string[]; log?: (line: string) => void; render?: NginxRenderOptions; /** Wait until /healthz answers through it (default true). */ waitReady?: boolean },
  ) {
    this.confPath = join(options.dir, 'nginx.conf');
  }

  async start(): Promise<this> {
    const { bin, dir, listen, upstreams, log, render } = this.options;
    writeFileSync(this.confPath, renderNginxConf({ listen, upstreams, dir, ...render }));
    const check = spawnSync(bin, ['-t', '-q', '-p', dir, '-c', this.confPath, '-g', 'daemon off;'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx rejected ${this.confPath}:\n${check.stderr}`);
    const proc = track(spawn(bin, ['-p', dir, '-c', this.confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.proc = proc;
    const record = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.splice(0, 100);
    };
    proc.stdout!.on('data', record);
    proc.stderr!.on('data', record);
    let exited = false;
    this.exited = new Promise((resolveExit) =>
      proc.once('exit', (code, signal) => {
        exited = true;
        resolveExit({ code, signal });
      }),
    );
    const deadline = Date.now() + 15_000;
    while (this.options.waitReady !== false && !(await httpOk(`http://${listen}/healthz`))) {
      if (exited) throw new Error(`nginx exited:\n${this.output.join('')}${this.errorLog()}`);
      if (Date.now() > deadline) throw new Error(`timed out after 15000 ms waiting for nginx on ${listen}:\n${this.errorLog()}`);
      await sleep(50);
    }
    log?.(`nginx listening on http://${listen} (pid ${proc.pid}) → ${upstreams.join(', ')}`);
    return this;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.options.dir, 'error.log'), 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  /** Graceful stop (SIGQUIT: finish requests, then exit), SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGQUIT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(timer);
  }
}
