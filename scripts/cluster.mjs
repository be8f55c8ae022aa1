#!/usr/bin/env node
// `npm run cluster -- --nodes 3 --port 8080`: Herald's cluster on one machine, no Docker.
// nginx on --port in front of N `herald serve` nodes; Redis and PostgreSQL from REDIS_URL and
// DATABASE_URL (default redis://127.0.0.1:6379 and postgres://postgres@127.0.0.1:5432/test).
// Ctrl-C or SIGTERM stops everything (nodes get SIGTERM: their clients are told to reconnect).
// The topology itself is startCluster() in @herald/testing (packages/testing/src/cluster.ts).
import { parseArgs } from 'node:util';
import { loadTesting } from './testing.mjs';

const USAGE = `Usage: npm run cluster -- [--nodes N] [--port P] [--host H] [--dir DIR]

  --nodes N    Herald nodes (default 2)
  --port P     nginx port (default 8080)
  --host H     nginx listen address (default 127.0.0.1)
  --dir DIR    working directory for nginx's configuration, logs and node logs
               (default: a new temporary directory, removed on exit)

Environment: REDIS_URL, DATABASE_URL, JWT_SECRET (generated when unset), and any Herald
variable (HERALD_ADMIN_PASSWORD, HERALD_SERVICE_KEY, LOG_LEVEL, …) is passed to every node.`;

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '2' },
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '127.0.0.1' },
    dir: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const nodes = Number(values.nodes);
const port = Number(values.port);
if (!Number.isInteger(nodes) || nodes < 1 || !Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`cluster: --nodes must be a positive integer and --port a port\n${USAGE}`);
  process.exit(2);
}

const log = (line) => console.log(`cluster: ${line}`);
let cluster;
try {
  const { startCluster } = await loadTesting();
  cluster = await startCluster({ nodes, port, host: values.host, dir: values.dir, keepDir: values.dir !== undefined, log, nginxOptions: { accessLog: true } });
} catch (error) {
  console.error(`cluster: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
log(`ready: ${cluster.url} (WebSocket ${cluster.wsUrl}/api/v1/ws, stats ${cluster.url}/api/v1/ws/stats?by_node=true)`);
log(`logs and nginx.conf in ${cluster.dir}${values.dir ? '' : ' (removed on exit)'}; Ctrl-C stops everything`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping nginx and ${nodes} node(s)…`);
  await cluster.stop();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
for (const node of cluster.nodes) {
  void node.exited.then(({ code, signal }) => {
    if (!stopping) log(`${node.nodeId} exited (${signal ?? `code ${code}`}); see ${cluster.dir}/node-${node.index + 1}.log`);
  });
}
