import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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

async function herald(args: string[], extraEnv: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } });
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
  });

  it('stops with one clear line naming a bad variable or argument', async () => {
    const badPort = await herald(['serve'], { PORT: 'abc' });
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim()).toBe('herald: configuration error: PORT: expected an integer, got "abc"');
    const unknownUser = await herald(['token', 'nobody']);
    expect(unknownUser.stderr.trim()).toBe('herald: configuration error: username: no user "nobody"');
    expect((await herald(['frobnicate'])).code).toBe(2);
  });
});

describe('herald serve', () => {
  it('creates the first admin, serves, and on SIGTERM closes sockets with 1001 and exits 0', async () => {
    const serveDir = mkdtempSync(join(tmpdir(), 'herald-serve-'));
    const child = spawn(process.execPath, [CLI, 'serve'], { env: { ...env, DATA_DIR: serveDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', HERALD_ADMIN_PASSWORD: 'first-admin-pw' } });
    try {
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
      const login = await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'first-admin-pw' }) })).json();
      expect(login.user).toMatchObject({ username: 'admin', is_admin: true });
      const socket = openSocket(`${url.replace('http', 'ws')}/api/v1/ws/admin?token=${login.access_token}`);
      await socket.waitFor((m) => m.type === 'resumed');
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect((await socket.closed).code).toBe(1001);
      expect(await exited).toBe(0);
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
