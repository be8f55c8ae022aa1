// @herald/testing: what Herald's tests, `npm run cluster`, the bench and the soak start.
// Subpaths load more: `./herald` (Herald in-process, needs @herald/server), `./stores` (every
// store the persistence tests run against), `./faults` (producer and recording SDK clients),
// `./fake-server` (a minimal Herald-speaking server for the client's tests).
export { sleep, until } from './wait.js';
export { freePort, httpOk, waitForPort } from './ports.js';
export { CLI, ROOT, HeraldProcess, buildIsStale, ensureBuilt, heraldCli, spawnHerald, track, type Exit, type HeraldProcessOptions } from './process.js';
export { NGINX_TEMPLATE, Nginx, findNginx, renderNginxConf, type NginxRenderOptions } from './nginx.js';
export { startCluster, type Cluster, type ClusterNode, type ClusterOptions } from './cluster.js';
export {
  RedisServer,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  commandExists,
  freshPostgresDatabase,
  freshPostgresSchema,
  postgresReachable,
  redisReachable,
  requireService,
} from './services.js';
export { TcpProxy } from './tcp-proxy.js';
export { duplicateKeys } from './logs.js';
