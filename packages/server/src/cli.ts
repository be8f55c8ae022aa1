#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { MemoryBroker } from './broker/index.js';
import { loggerOptions } from './logging.js';
import { ConfigError, loadConfig, parseDuration, type Config } from './config.js';
import { createCore, storeLocation, type Core } from './core.js';

const USAGE = `Usage: herald <command> [options]

  serve                                   run the server (HTTP + WebSocket)
  user add <username> --password <pw> [--admin]
  user list
  user passwd <username> [--password <pw>] set a password and end the user's sessions (see --help)
  token <username> [--ttl 15m]            print an access token
  worker                                  run transcode jobs from the BullMQ queue (needs REDIS_URL,
                                          HERALD_URL and HERALD_SERVICE_KEY)
  demo [--url URL] [--user admin] --password <pw>
                                          sign in to a running server, upload and transcode a test video
  help [command]

Every command answers --help (-h). Configuration comes from environment variables; see README.md.`;

/** Per-command usage, printed by `herald <command> --help`. */
const COMMAND_USAGE: Record<string, string> = {
  serve: `Usage: herald serve

Runs the server (HTTP API, WebSocket endpoints, console). On an empty store it creates the
administrator "admin" and prints its password once (set HERALD_ADMIN_PASSWORD to choose it).
Configuration comes from environment variables (PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, …);
see README.md.`,
  user: `Usage: herald user add <username> --password <pw> [--admin]
       herald user list
       herald user passwd <username> [--password <pw>]

Manages the accounts in the local store (DATA_DIR, or DATABASE_URL).

  --password <pw>   the new user's password
  --admin           make the user an administrator

user passwd reads the new password from stdin when --password is absent, revokes every refresh
token of the user and ends their sessions (with REDIS_URL, their open sockets close at once with
4001 "password changed").`,
  token: `Usage: herald token <username> [--ttl 15m]

Prints an access token for <username>, signed with the store's secret (DATA_DIR or JWT_SECRET).

  --ttl <duration>  lifetime, e.g. 90s, 15m, 2h (default 15m)`,
  worker: `Usage: herald worker

Runs transcode jobs from the BullMQ queue. Needs REDIS_URL, HERALD_URL (a node's base URL)
and HERALD_SERVICE_KEY; see docs/cluster.md.`,
  demo: `Usage: herald demo [--url URL] [--user NAME] --password PW

Signs in to a running Herald over HTTP (POST /api/v1/auth/login), makes a 20 s test video with
ffmpeg, uploads it and transcodes it, printing the progress the admin WebSocket pushes. It reads
and writes no local data directory.

  --url <url>        the server's base URL (default http://localhost:$PORT, PORT defaulting to 8000)
  --user <name>      an administrator's username (default $HERALD_USER, else admin)
  --password <pw>    that administrator's password (default $HERALD_PASSWORD)
  --seconds <n>      length of the test video (default 20)`,
};

/** A mistake on the command line: one line on stderr, exit status 2. */
class UsageError extends Error {}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * Parses a command's arguments strictly; `--help`/`-h` is accepted by every command. Unknown
 * options and missing values become a UsageError naming the option and pointing to --help.
 */
function parse<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
    const what = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option '${option}'` : code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ? `option '${option}' needs a value` : message.split('. ')[0];
    throw new UsageError(`herald ${command}: ${what} (see herald ${command} --help)`);
  }
}

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

/** `herald demo`: signs in over HTTP, so it needs nothing local: no DATA_DIR, no secret. */
async function demo(args: string[]): Promise<number> {
  const { values } = parse('demo', args, { url: { type: 'string' }, user: { type: 'string' }, password: { type: 'string' }, seconds: { type: 'string', default: '20' } });
  const seconds = Number(values.seconds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) throw new UsageError(`herald demo: --seconds must be an integer from 1 to 600, got "${values.seconds}"`);
  const url = (values.url ?? `http://localhost:${process.env.PORT?.trim() || 8000}`).replace(/\/+$/, '');
  const username = values.user ?? (process.env.HERALD_USER?.trim() || 'admin');
  const password = values.password ?? process.env.HERALD_PASSWORD;
  if (!password) throw new UsageError(`herald demo: --password (or HERALD_PASSWORD) is required: the password of "${username}" on ${url} (see herald demo --help)`);
  const { login, runDemo } = await import('./demo.js');
  const token = await login(url, username, password);
  await runDemo(url, token, (line) => process.stdout.write(line + '\n'), seconds);
  return 0;
}

async function user(args: string[]): Promise<number> {
  if (args[0] === 'passwd') return (await import('./cli-passwd.js')).userPasswd(loadConfig(), args.slice(1));
  const { positionals, values } = parse('user', args, { password: { type: 'string' }, admin: { type: 'boolean', default: false } });
  const config = loadConfig();
  if (positionals[0] === 'add' && positionals[1]) {
    if (!values.password) throw new UsageError('herald user add: --password is required (see herald user --help)');
    const user = await withCore(config, ({ auth }) => auth.createUser(positionals[1], values.password!, values.admin ?? false));
    process.stdout.write(`created user ${user.username} (id ${user.id}${user.is_admin ? ', admin' : ''})\n`);
    return 0;
  }
  if (positionals[0] === 'list') {
    const users = await withCore(config, ({ store }) => store.users.list());
    // On stderr: stdout stays a clean table (empty here) for scripts.
    if (users.length === 0) process.stderr.write('no users yet; create one with herald user add <username> --password <pw> [--admin]\n');
    for (const u of users) process.stdout.write(`${u.id}\t${u.username}\t${u.is_admin ? 'admin' : 'user'}\t${u.created_at}\n`);
    return 0;
  }
  throw new UsageError(`herald user: expected "add <username>" or "list" (see herald user --help)`);
}

async function token(args: string[]): Promise<number> {
  const { positionals, values } = parse('token', args, { ttl: { type: 'string', default: '15m' } });
  if (!positionals[0]) throw new UsageError('herald token: <username> is required (see herald token --help)');
  const ttl = parseDuration(values.ttl ?? '15m', '--ttl');
  const config = loadConfig();
  const token = await withCore(config, async ({ store, auth }) => {
    const user = await store.users.findByUsername(positionals[0]);
    if (!user) throw new ConfigError('username', `no user "${positionals[0]}"`);
    return auth.tokens.signAccess(user, ttl);
  });
  process.stdout.write(token + '\n');
  return 0;
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  serve: async (args) => {
    parse('serve', args, {});
    await serve(loadConfig());
    return -1;
  },
  worker: async (args) => {
    parse('worker', args, {});
    await worker(loadConfig());
    return -1;
  },
  user,
  token,
  demo,
};

/** Returns the exit status, or -1 for a command that keeps running (serve, worker). */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command) {
    process.stderr.write(USAGE + '\n');
    return 1;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write((COMMAND_USAGE[rest[0] ?? ''] ?? USAGE) + '\n');
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(command.startsWith('-') ? `herald: unknown option '${command}' (see herald --help)` : `herald: unknown command "${command}" (see herald --help)`);
  // `herald user passwd --help` is answered by the subcommand itself.
  if ((rest.includes('--help') || rest.includes('-h')) && !(command === 'user' && rest[0] === 'passwd')) {
    process.stdout.write(COMMAND_USAGE[command] + '\n');
    return 0;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(error.message + '\n');
      process.exit(2);
    }
    if (error instanceof ConfigError) process.stderr.write(`herald: configuration error: ${error.message}\n`);
    else process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
