// Herald's cluster topology without Docker: N `herald serve` processes on local ports, nginx in
// front of them (rendered from deploy/nginx.conf), Redis and PostgreSQL from the environment.
// Used by `npm run cluster` (scripts/cluster.mjs), the soak and the cluster fault tests.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Nginx, findNginx, type NginxRenderOptions } from './nginx.js';
import { freePort } from './ports.js';
import { HeraldProcess, ensureBuilt } from './process.js';

/** A node of a cluster: a Herald process with its index. */
export interface ClusterNode extends HeraldProcess {
  readonly index: number;
}

export interface Cluster {
  dir: string;
  url: string;
  wsUrl: string;
  port: number;
  nodes: ClusterNode[];
  nginx: Nginx;
  jwtSecret: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Herald nodes (default 2). */
  nodes?: number;
  /** nginx port (default 8080; 0 = a free one). */
  port?: number;
  /** nginx listen address (default 127.0.0.1). */
  host?: string;
  /** The nodes' ports (default: free ones). */
  nodePorts?: number[];
  /** Default $REDIS_URL, then redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Default $DATABASE_URL, then postgres://postgres@127.0.0.1:5432/test. */
  databaseUrl?: string;
  /** Default $JWT_SECRET, else generated (and written to `<dir>/jwt-secret`). */
  jwtSecret?: string;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Working directory for nginx.conf and the logs (default: a new temp dir, removed by stop()). */
  dir?: string;
  keepDir?: boolean;
  /** Compile packages/server when dist is stale (default true). */
  build?: boolean;
  /** The nginx binary (default: findNginx()). */
  nginx?: string;
  nginxOptions?: NginxRenderOptions;
  log?: (line: string) => void;
}

/** Starts nginx on `port` in front of `nodes` Herald nodes; `stop()` stops everything. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? (() => {});
  const nginxBin = options.nginx ?? findNginx();
  if (!nginxBin) throw new Error("nginx not found (install Debian's nginx-light, or set NGINX=/path/to/nginx)");
  if (options.build !== false) ensureBuilt({ log });
  const count = options.nodes ?? 2;
  const host = options.host ?? '127.0.0.1';
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'herald-cluster-'));
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // nginx workers (nobody) must reach their temp dirs
  const jwtSecret = options.jwtSecret ?? process.env.JWT_SECRET ?? randomBytes(32).toString('hex');
  if (!options.jwtSecret && !process.env.JWT_SECRET) writeFileSync(join(dir, 'jwt-secret'), jwtSecret, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = {
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
  const port = options.port === 0 ? await freePort() : (options.port ?? 8080);
  const nodePorts = options.nodePorts ?? (await Promise.all(Array.from({ length: count }, () => freePort())));
  const nodes = nodePorts.map((p, index) =>
    Object.assign(
      new HeraldProcess({
        port: p,
        env,
        nodeId: (generation) => `node-${index + 1}${generation > 1 ? `-g${generation}` : ''}`,
        logFile: join(dir, `node-${index + 1}.log`),
        log,
      }),
      { index },
    ),
  );
  const nginx = new Nginx({ bin: nginxBin, dir, listen: `${host}:${port}`, upstreams: nodePorts.map((p) => `127.0.0.1:${p}`), log, render: options.nginxOptions });
  const cluster: Cluster = {
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
