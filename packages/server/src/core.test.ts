import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker } from './broker/index.js';
import { loadConfig } from './config.js';
import { createCore } from './core.js';
import { Store } from './store/index.js';

const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function config() {
  const dir = mkdtempSync(join(tmpdir(), 'herald-core-'));
  dirs.push(dir);
  return loadConfig({ DATA_DIR: dir, JWT_SECRET: 'core-secret-core-secret-core-secret-0123', LOG_LEVEL: 'silent' });
}

describe('createCore', () => {
  it('opens the configured store, and what one core writes the next one reads', async () => {
    const cfg = config();
    const first = await createCore(cfg, { log });
    const user = await first.auth.createUser('carol', 'long-enough-pw', true);
    await first.close();
    const second = await createCore(cfg, { log });
    expect(await second.store.users.findByUsername('carol')).toMatchObject({ id: user.id, is_admin: true });
    const claims = await second.tokens.verifyAccess(await second.tokens.signAccess(user));
    expect(claims.userId).toBe(user.id);
    await second.close();
    await expect(second.store.ping()).rejects.toThrow();
  });

  it('leaves a store and broker it was given open', async () => {
    const cfg = config();
    const store = await Store.open(join(cfg.dataDir, 'shared.db'));
    const broker = new MemoryBroker();
    const core = await createCore(cfg, { log, store, broker });
    const delivery = await core.notifications.notifySystemMessage('kept', 'info');
    await core.close();
    await expect(store.ping()).resolves.toBeUndefined();
    expect((await store.streams.heads(['broadcast'])).broadcast.head).toBe(delivery.stored[0].seq);
    await store.close();
    await broker.close();
  });
});
