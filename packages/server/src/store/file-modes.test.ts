import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'herald-modes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('SQLite files', () => {
  it('are readable by their owner only: the data directory 0700, the database, WAL and SHM 0600', async () => {
    const dir = join(root, 'data');
    const file = join(dir, 'herald.db');
    const store = await Store.open(file);
    try {
      await store.users.create('alice', 'not-a-real-hash', false);
      expect(mode(dir)).toBe(0o700);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(mode(path), path).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it('tightens a database file left readable by others, and leaves an existing directory alone', async () => {
    const file = join(root, 'herald.db');
    const store = await Store.open(file);
    await store.close();
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    const before = mode(root);
    const reopened = await Store.open(file);
    await reopened.close();
    expect(mode(file)).toBe(0o600);
    expect(mode(root)).toBe(before);
  });
});
