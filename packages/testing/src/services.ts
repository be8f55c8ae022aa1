// Redis and PostgreSQL fixtures: the machine's shared servers (fresh schemas, random prefixes)
// and private redis-server processes for tests that stop or cut Redis.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { track, type Exit } from './process.js';
import { until } from './wait.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Tests that need a real service skip with a reason when it is missing, and fail instead
 * when CI=true, so CI always runs them.
 */
export function requireService(name: string, available: boolean, why: string): boolean {
  if (available) return true;
  const message = `${name} unavailable (${why})`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true requires it`);
  console.warn(`skipping ${name} tests: ${message}`);
  return false;
}

export function commandExists(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

export async function postgresReachable(url = TEST_DATABASE_URL): Promise<{ ok: boolean; why: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true, why: '' };
  } catch (error) {
    return { ok: false, why: `${url}: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisReachable(url = TEST_REDIS_URL): Promise<{ ok: boolean; why: string }> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return { ok: true, why: '' };
  } catch (error) {
    return { ok: false, why: `${url}: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    client.disconnect();
  }
}

/** A fresh PostgreSQL schema (one test file, one soak run); returns its URL and a drop function. */
export async function freshPostgresSchema(base = TEST_DATABASE_URL): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `herald_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`drop schema if exists ${schema} cascade`);
      await client.end();
    },
  };
}

/**
 * A fresh PostgreSQL database (dropped with `drop()`), or undefined when none is reachable.
 * A database rather than a schema where several processes migrate at once: Kysely's migrator
 * looks for its tables in every schema of the database.
 */
export async function freshPostgresDatabase(base = TEST_DATABASE_URL, prefix = 'herald_'): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const name = `${prefix}${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: base, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query(`create database ${name}`);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Whether a Redis server answers PING on 127.0.0.1:`port` (raw RESP, no client library). */
function redisPong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.setTimeout(1000, () => socket.destroy());
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
  });
}

/**
 * A private redis-server (the machine's Redis is shared with other tests: never restart it).
 * `port` 0 picks a free one; `wrapper` prefixes the command (e.g. `['taskset', '-c', '1']`).
 */
export class RedisServer {
  proc: ChildProcess | undefined;
  #exited: Promise<Exit> = Promise.resolve({ code: 0, signal: null });

  constructor(
    public port = 0,
    readonly options: { wrapper?: string[]; dir?: string } = {},
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...(this.options.dir ? ['--dir', this.options.dir] : [])];
    const argv = [...(this.options.wrapper ?? []), 'redis-server', ...args];
    const proc = track(spawn(argv[0], argv.slice(1), { stdio: 'ignore' }));
    this.proc = proc;
    proc.on('error', () => undefined); // a missing binary: start() times out with its name
    this.#exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    await until(() => redisPong(this.port), 10_000, `redis-server on ${this.port}`);
    return this;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await this.#exited;
  }
}
