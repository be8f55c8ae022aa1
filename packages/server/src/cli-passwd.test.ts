import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from './store/index.js';

const run = promisify(execFile);
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'herald-passwd-'));
const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent', JWT_SECRET: 'cli-secret-cli-secret-cli-secret-0123' };

async function herald(args: string[], input?: string) {
  const child = run(process.execPath, [CLI, ...args], { env });
  if (input !== undefined) child.child.stdin?.end(input);
  else child.child.stdin?.end();
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  if (!existsSync(CLI)) await run('npx', ['tsc', '-b', new URL('..', import.meta.url).pathname]);
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('herald user passwd', () => {
  it('answers --help', async () => {
    const help = await herald(['user', 'passwd', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: herald user passwd <username>');
  }, 30_000);

  it('sets the password (from stdin), revokes refresh tokens and refuses older tokens', async () => {
    expect((await herald(['user', 'add', 'pat', '--password', 'first-password'])).code).toBe(0);
    const changed = await herald(['user', 'passwd', 'pat'], 'second-password\n');
    expect(changed).toMatchObject({ code: 0, stdout: expect.stringContaining('password of pat changed') });
    const store = await Store.open(join(dataDir, 'herald.db'));
    try {
      const user = await store.users.findByUsername('pat');
      expect(user!.tokens_valid_after).toBeGreaterThan(Date.now() / 1000 - 60);
    } finally {
      await store.close();
    }
    expect((await herald(['user', 'passwd', 'pat', '--password', 'short'])).stderr).toContain('password must be 8-256 characters');
    expect((await herald(['user', 'passwd', 'nobody', '--password', 'whatever-long'])).stderr).toContain('no Herald account "nobody"');
  }, 90_000); // five CLI processes: slow on a loaded machine
});
