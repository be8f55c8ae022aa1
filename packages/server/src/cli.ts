#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { MemoryBroker } from './broker/index.js';
import { loggerOptions } from './logging.js';
import { ConfigError, loadConfig, parseDuration, type Config } from './config.js';
import { createCore, storeLocation, type Core } from './core.js';

const USAGE = `Usage: herald <command>

  serve                                   run the server (HTTP + WebSocket)
  user add <username> --password <pw> [--admin]
  user list
  user passwd <username> [--password <pw>] set a password and end the user's sessions (see --help)
  token <username> [--ttl 15m]            print an access token
  worker                                  run transcode jobs from the BullMQ queue (needs REDIS_URL,
                                          HERALD_URL and HERALD_SERVICE_KEY)
  demo [--url http://localhost:8000] [--user admin]
                                          upload and transcode a generated test video on a running server
  help

Configuration comes from environment variables; see README.md.`;

async function logger(config: Config, role: string) {
  const { default: pino } = await import('pino');
  // stderr: stdout carries the commands' output (`herald token` is piped into scripts).
  return pino({ level: config.logLevel, base: { role } }, pino.destination(2));
}

/**
 * Runs an offline command (user, token, demo) against the core. It publishes nothing, so it
 * does not join the cluster: an in-process broker stands in for Redis.
 */
async function withCore<T>(config: Config, fn: (core: Core) => Promise<T>): Promise<T> {
  const core = await createCore(config, { log: await logger(config, 'cli'), broker: new MemoryBroker() });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

async function serve(config: Config): Promise<void> {
  const herald = await buildApp(config);
  const bootstrap = await herald.auth.ensureAdmin(config.adminPassword);
  if (bootstrap.created && bootstrap.password) {
    // Printed once, to the console only: the operator must keep it.
    process.stdout.write(`\nCreated administrator "admin" with password: ${bootstrap.password}\n(set HERALD_ADMIN_PASSWORD to choose it; this is shown only once)\n\n`);
  }
  const url = await herald.listen();
  herald.log.info({ url, store: herald.store.dialect, broker: herald.broker.kind }, `Herald listening on ${url}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    herald.log.info({ signal }, 'shutting down');
    herald.close().then(
      () => process.exit(0),
      (err) => {
        herald.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/**
 * `herald worker`: @herald/transcode's BullMQ worker. It updates the job rows in the same
 * database and publishes to a node over HTTP (HERALD_URL, HERALD_SERVICE_KEY).
 */
async function worker(config: Config): Promise<void> {
  if (!config.redisUrl) throw new ConfigError('REDIS_URL', 'herald worker needs Redis; the embedded default transcodes inside herald serve');
  const heraldUrl = process.env.HERALD_URL?.trim();
  if (!heraldUrl || !/^https?:\/\//.test(heraldUrl)) throw new ConfigError('HERALD_URL', 'herald worker publishes to a Herald node: set it to its base URL, e.g. http://herald:8000');
  if (!config.serviceKey) throw new ConfigError('HERALD_SERVICE_KEY', 'herald worker publishes with the service key of the nodes');
  const { default: pino } = await import('pino');
  const log = pino(loggerOptions(config.logLevel, { role: 'worker' }));
  const { runWorker } = await import('@herald/transcode');
  const running = await runWorker({
    redisUrl: config.redisUrl,
    prefix: `${config.redisPrefix}herald`,
    concurrency: config.transcodeConcurrency,
    mediaDir: config.mediaDir,
    database: storeLocation(config),
    heraldUrl,
    serviceKey: config.serviceKey,
    log,
  });
  const stop = async () => {
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 1;
  }
  const config = loadConfig();
  switch (command) {
    case 'serve':
      await serve(config);
      return -1;
    case 'user': {
      if (rest[0] === 'passwd') return (await import('./cli-passwd.js')).userPasswd(config, rest.slice(1));
      const { positionals, values } = parseArgs({ args: rest, allowPositionals: true, options: { password: { type: 'string' }, admin: { type: 'boolean', default: false } } });
      if (positionals[0] === 'add' && positionals[1]) {
        if (!values.password) throw new ConfigError('--password', 'is required');
        const user = await withCore(config, ({ auth }) => auth.createUser(positionals[1], values.password!, values.admin ?? false));
        process.stdout.write(`created user ${user.username} (id ${user.id}${user.is_admin ? ', admin' : ''})\n`);
        return 0;
      }
      if (positionals[0] === 'list') {
        const users = await withCore(config, ({ store }) => store.users.list());
        for (const u of users) process.stdout.write(`${u.id}\t${u.username}\t${u.is_admin ? 'admin' : 'user'}\t${u.created_at}\n`);
        return 0;
      }
      process.stderr.write(USAGE + '\n');
      return 2;
    }
    case 'token': {
      const { positionals, values } = parseArgs({ args: rest, allowPositionals: true, options: { ttl: { type: 'string', default: '15m' } } });
      if (!positionals[0]) throw new ConfigError('username', 'is required');
      const ttl = parseDuration(values.ttl ?? '15m', '--ttl');
      const token = await withCore(config, async ({ store, auth }) => {
        const user = await store.users.findByUsername(positionals[0]);
        if (!user) throw new ConfigError('username', `no user "${positionals[0]}"`);
        return auth.tokens.signAccess(user, ttl);
      });
      process.stdout.write(token + '\n');
      return 0;
    }
    case 'worker':
      await worker(config);
      return -1;
    case 'demo': {
      const { values } = parseArgs({ args: rest, options: { url: { type: 'string', default: `http://localhost:${config.port}` }, user: { type: 'string', default: 'admin' } } });
      const token = await withCore(config, async ({ store, auth }) => {
        const user = await store.users.findByUsername(values.user ?? 'admin');
        if (!user?.is_admin) throw new ConfigError('--user', `"${values.user}" is not an administrator in ${config.databaseUrl ? 'DATABASE_URL' : config.dataDir}`);
        return auth.tokens.signAccess(user, 600);
      });
      const { runDemo } = await import('./demo.js');
      await runDemo(values.url ?? '', token, (line) => process.stdout.write(line + '\n'));
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`herald: configuration error: ${error.message}\n`);
    else process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
