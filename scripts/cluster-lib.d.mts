// Types of scripts/cluster-lib.mjs, for the TypeScript tests that import it.
export declare const ROOT: string;
export declare const CLI: string;
export declare const NGINX_TEMPLATE: string;
export declare function findNginx(): string | undefined;
export declare function freePort(): Promise<number>;
export declare function buildIsStale(): boolean;
export declare function ensureBuilt(options?: { log?: (line: string) => void }): boolean;
export declare function renderNginxConf(options: {
  listen: string;
  upstreams: string[];
  dir: string;
  maxFails?: number;
  failTimeout?: string;
  workers?: number;
  accessLog?: boolean;
}): string;

export interface ClusterNode {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  readonly nodeId: string;
  readonly running: boolean;
  readonly output: string[];
  exited: Promise<{ code: number | null; signal: string | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }>;
  restart(env?: Record<string, string>): Promise<ClusterNode>;
}

export interface Cluster {
  dir: string;
  url: string;
  wsUrl: string;
  port: number;
  nodes: ClusterNode[];
  jwtSecret: string;
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

export declare function startCluster(options?: {
  nodes?: number;
  port?: number;
  host?: string;
  nodePorts?: number[];
  redisUrl?: string;
  databaseUrl?: string;
  jwtSecret?: string;
  env?: Record<string, string>;
  dir?: string;
  keepDir?: boolean;
  build?: boolean;
  nginx?: string;
  nginxOptions?: { maxFails?: number; failTimeout?: string; workers?: number; accessLog?: boolean };
  log?: (line: string) => void;
}): Promise<Cluster>;
