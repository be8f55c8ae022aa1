import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from './auth/index.js';
import { duplicateKeys } from '@herald/testing';
import { openSocket } from '@herald/testing/herald';

const run = promisify(execFile);
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'herald-cli-'));
const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', JWT_SECRET: 'cli-secret-cli-secret-cli-secret-0123' };

async function herald(args: string[], extraEnv: Record<string, string> = {}, cwd?: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  // The CLI is tested as shipped: the compiled dist (npm test builds it first).
  if (!existsSync(CLI)) await run('npx', ['tsc', '-b', new URL('..', import.meta.url).pathname]);
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('herald CLI', () => {
  it('adds and lists users and prints a token that verifies', async () => {
    expect(await herald(['user', 'add', 'ops', '--password', 'ops-password', '--admin'])).toMatchObject({ code: 0, stdout: expect.stringContaining('created user ops') });
    expect((await herald(['user', 'list'])).stdout).toMatch(/1\tops\tadmin/);
    const { stdout } = await herald(['token', 'ops', '--ttl', '5m']);
    const claims = await new TokenService(env.JWT_SECRET, 900, 900).verifyAccess(stdout.trim());
    expect(claims).toMatchObject({ userId: 1, isAdmin: true });
    expect(claims.exp - Date.now() / 1000).toBeLessThanOrEqual(300);
  }, 60_000);

  it('stops with one clear line naming a bad variable or argument', async () => {
    const badPort = await herald(['serve'], { PORT: 'abc' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim()).toBe('herald: configuration error: PORT: expected an integer, got "abc"');
    const unknownUser = await herald(['token', 'nobody']);
    expect(unknownUser.stderr.trim()).toBe('herald: configuration error: username: no user "nobody"');
    expect((await herald(['frobnicate'])).code).toBe(2);
  }, 60_000);
});

describe('herald CLI usage', () => {
  it('answers --help and -h on every command with its usage, exit 0', async () => {
    const runs = ['serve', 'user', 'token', 'worker', 'demo'].flatMap((command) =>
      ['--help', '-h'].map(async (flag) => {
        const result = await herald([command, flag], { PORT: 'not-read-for-help' });
        expect(result, `${command} ${flag}`).toMatchObject({ code: 0, stdout: expect.stringContaining(`Usage: herald ${command}`) });
      }),
    );
    await Promise.all(runs);
    expect(await herald(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Every command answers --help') });
  }, 60_000);

  it('names an unknown option in one line pointing to --help, exit 2', async () => {
    expect(await herald(['demo', '--frobnicate'])).toMatchObject({ code: 2, stderr: "herald demo: unknown option '--frobnicate' (see herald demo --help)\n" });
    expect(await herald(['user', 'list', '-x'])).toMatchObject({ code: 2, stderr: "herald user: unknown option '-x' (see herald user --help)\n" });
    expect(await herald(['demo', '--url'])).toMatchObject({ code: 2, stderr: "herald demo: option '--url' needs a value (see herald demo --help)\n" });
  });

  it('says so when the store has no users yet', async () => {
    const emptyDir = mkdtempSync(join(tmpdir(), 'herald-cli-empty-'));
    try {
      expect(await herald(['user', 'list'], { DATA_DIR: emptyDir })).toEqual({ code: 0, stdout: '', stderr: 'no users yet; create one with herald user add <username> --password <pw> [--admin]\n' });
    } finally {
      rmSync(emptyDir, { recursive: true, force: true });
    }
  });
});

/** Starts `herald serve` on an ephemeral port; resolves with its URL once it listens. */
async function startServe(extraEnv: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...extraEnv } });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line in ${output}`)), 20_000);
    child.stdout.on('data', () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { child, url, output: () => output };
}

describe('herald demo', () => {
  it('signs in over HTTP and transcodes on the server, leaving its working directory untouched', async () => {
    const serveDir = mkdtempSync(join(tmpdir(), 'herald-demo-serve-'));
    const cwd = mkdtempSync(join(tmpdir(), 'herald-demo-cwd-'));
    const server = await startServe({ DATA_DIR: serveDir, HERALD_ADMIN_PASSWORD: 'demo-admin-pw' });
    try {
      // No DATA_DIR: a demo that opened a local store would create ./data in cwd.
      const noDataDir = { DATA_DIR: '', JWT_SECRET: '' };
      const wrong = await herald(['demo', '--url', server.url, '--password', 'wrong-password'], noDataDir, cwd);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain(`sign-in as "admin" on ${server.url} failed`);
      const demo = await herald(['demo', '--url', server.url, '--seconds', '2'], { ...noDataDir, HERALD_USER: 'admin', HERALD_PASSWORD: 'demo-admin-pw' }, cwd);
      expect(demo, demo.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('done.') });
      expect(demo.stdout).toMatch(/✅ h264_480p: \d+ KiB/);
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      server.child.kill('SIGKILL');
      rmSync(serveDir, { recursive: true, force: true });
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('herald serve', () => {
  it('creates the first admin, serves, and on SIGTERM closes sockets with 1001 and exits 0', async () => {
    const serveDir = mkdtempSync(join(tmpdir(), 'herald-serve-'));
    const { child, url, output: printed } = await startServe({ DATA_DIR: serveDir, HERALD_ADMIN_PASSWORD: 'first-admin-pw' });
    try {
      const login = await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'first-admin-pw' }) })).json();
      expect(login.user).toMatchObject({ username: 'admin', is_admin: true });
      const socket = openSocket(`${url.replace('http', 'ws')}/api/v1/ws/admin?token=${login.access_token}`);
      await socket.waitFor((m) => m.type === 'resumed');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect((await socket.closed).code).toBe(1001);
      expect(await exited).toBe(0);
      const output = printed();
      expect(output).not.toContain(login.access_token);
      const lines = output.split('\n').filter((line) => line.startsWith('{'));
      expect(lines.length).toBeGreaterThan(2);
      expect(lines.flatMap((line) => duplicateKeys(line).map((key) => `${key} in ${line}`))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(serveDir, { recursive: true, force: true });
    }
  }, 30_000);
});
