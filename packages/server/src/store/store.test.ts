import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STORE_TARGETS, openStore } from '@herald/testing/stores';
import type { Store } from './store.js';

describe.each(STORE_TARGETS)('store on $name', (target) => {
  let store: Store;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ store, dispose } = await openStore(target));
  });
  afterEach(() => dispose());

  it('creates and finds users, keeping only a password hash', async () => {
    const user = await store.users.create('alice', 'scrypt$hash', false);
    expect(user).toMatchObject({ username: 'alice', is_admin: false });
    expect(await store.users.findById(user.id)).toEqual(user);
    expect((await store.users.findByUsername('alice'))?.password_hash).toBe('scrypt$hash');
    await expect(store.users.create('alice', 'x', false)).rejects.toThrow();
    expect(await store.users.setAdmin(user.id, true)).toMatchObject({ is_admin: true });
    expect(await store.users.countAdmins()).toBe(1);
  });

  it('consumes a refresh token once and revokes its family on reuse', async () => {
    const user = await store.users.create('bob', 'h', false);
    await store.users.saveRefreshToken('t1', user.id, 'fam', Date.now() + 60_000);
    await store.users.saveRefreshToken('t2', user.id, 'fam', Date.now() + 60_000);
    expect(await store.users.useRefreshToken('t1')).toEqual({ ok: true, userId: user.id, family: 'fam' });
    expect(await store.users.useRefreshToken('t1')).toEqual({ ok: false, reason: 'reused' });
    expect(await store.users.useRefreshToken('t2')).toEqual({ ok: false, reason: 'reused' });
    expect(await store.users.useRefreshToken('nope')).toEqual({ ok: false, reason: 'unknown' });
  });

  it('stores a batch of 500 in one transaction, in order, or nothing of it when an element fails mid-batch', async () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ stream: i % 2 ? 'admins' : 'user:7', type: 'system_message', payload: { message: `m${i}` } }));
    const bad = items.map((item, i) => (i === 250 ? { ...item, payload: { message: 10n } as never } : item));
    await expect(store.streams.appendBatch(bad)).rejects.toThrow();
    expect(await store.streams.heads(['admins', 'user:7'])).toEqual({ admins: { head: 0, pruned: 0 }, 'user:7': { head: 0, pruned: 0 } });
    expect(await store.streams.readStream('user:7', 0, 10)).toEqual([]);
    const done = await store.streams.appendBatch(items);
    if (!('stored' in done)) throw new Error('expected a stored batch');
    expect(done.stored.map((s) => s.payload.message)).toEqual(items.map((i) => i.payload.message));
    expect(done.stored.filter((s) => s.stream === 'admins').map((s) => s.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(done.stored.map((s) => s.id)).toEqual([...done.stored.map((s) => s.id)].sort((a, b) => a - b));
  });

  it('stores a batch over several multi-row statements (more rows and streams than one takes), each row with its own id and offset', async () => {
    // 1,300 rows over 650 streams: heads and rows each take more than one statement of 500.
    const items = Array.from({ length: 1300 }, (_, i) => ({ stream: `user:${1 + (i % 650)}`, type: 'system_message', payload: { message: `m${i}`, level: 'warning' } }));
    await store.streams.append('user:1', 'system_message', { message: 'before' });
    const [a, b] = await Promise.all([store.streams.appendBatch(items), store.streams.appendBatch(items.slice(0, 3))]);
    if (!('stored' in a) || !('stored' in b)) throw new Error('expected stored batches');
    expect(a.stored.map((s) => s.payload.message)).toEqual(items.map((i) => i.payload.message));
    for (const stream of ['user:1', 'user:2', 'user:650']) {
      const read = await store.streams.readStream(stream, 0, 10);
      expect(read.map((r) => r.seq)).toEqual(read.map((_, i) => i + 1));
      for (const r of read) {
        const mine = [...a.stored, ...b.stored].find((s) => s.id === r.id);
        if (mine) expect(mine).toEqual(r);
      }
    }
    const heads = await store.streams.heads(['user:1', 'user:2', 'user:4', 'user:650']);
    expect(Object.values(heads).map((h) => h.head)).toEqual([1 + 2 + 1, 2 + 1, 2, 2]);
    expect(new Set(a.stored.map((s) => s.id)).size).toBe(1300);
    expect(await store.inbox.page(7, { streams: ['user:5'], limit: 10, levels: ['warning'] })).toHaveLength(2);
  });

  it('records a request once per caller and key with its answer, in the batch transaction', async () => {
    const item = { stream: 'admins', type: 'system_message', payload: { message: 'once' } };
    const once = { scope: 'service', key: 'k1', hash: 'h1', answer: (stored: { id: number }[]) => JSON.stringify(stored.map((s) => s.id)) };
    const first = await store.streams.appendBatch([item], once);
    expect(first).toMatchObject({ answer: expect.any(String) });
    expect(await store.streams.appendBatch([item], once)).toEqual({ earlier: { hash: 'h1', answer: (first as { answer: string }).answer } });
    expect(await store.streams.appendBatch([item], { ...once, scope: 'user:1' })).toMatchObject({ stored: [expect.any(Object)] });
    expect((await store.streams.heads(['admins'])).admins.head).toBe(2);
  });

  it('finds the users of a publish target by id in batches, leaving out the unknown ones', async () => {
    const a = await store.users.create('ra', 'h', false);
    const b = await store.users.create('rb', 'h', false);
    expect(await store.users.findByIds([b.id, a.id])).toEqual(new Map([[b.id, b], [a.id, a]]));
    expect([...(await store.users.findByIds([a.id, 999_998, b.id, 999_999])).keys()].sort()).toEqual([a.id, b.id].sort());
  });

  it('gives each stream strictly increasing, gapless offsets under concurrent writers', async () => {
    const writes = Array.from({ length: 200 }, (_, i) => store.streams.append(i % 2 ? 'broadcast' : 'user:1', 'system_message', { message: `m${i}` }));
    const rows = await Promise.all(writes);
    for (const stream of ['broadcast', 'user:1']) {
      const offsets = rows.filter((r) => r.stream === stream).map((r) => r.seq).sort((a, b) => a - b);
      expect(offsets).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      const read = await store.streams.readStream(stream, 0, 1000);
      expect(read.map((r) => r.seq)).toEqual(offsets);
    }
    expect(await store.streams.heads(['broadcast', 'user:1', 'admins'])).toEqual({
      broadcast: { head: 100, pruned: 0 },
      'user:1': { head: 100, pruned: 0 },
      admins: { head: 0, pruned: 0 },
    });
  });

  it('counts unread per user with read marks and read-all watermarks', async () => {
    const streams = ['user:1', 'broadcast'];
    const a = await store.streams.append('user:1', 'system_message', { message: 'a' });
    await store.streams.append('broadcast', 'system_message', { message: 'b' });
    await store.streams.append('user:2', 'system_message', { message: 'not mine' });
    expect(await store.inbox.unread(1, streams)).toEqual({ count: 2, positions: { 'user:1': 1, broadcast: 1 } });
    expect(await store.inbox.markRead(1, [a.id, 9999], streams)).toEqual([a.id]);
    expect((await store.inbox.unread(1, streams)).count).toBe(1);
    expect((await store.inbox.unread(2, ['user:2', 'broadcast'])).count).toBe(2);
    await store.inbox.markAllRead(1, streams);
    await store.streams.append('broadcast', 'system_message', { message: 'c' });
    expect(await store.inbox.unread(1, streams)).toEqual({ count: 1, positions: { 'user:1': 1, broadcast: 2 } });
    const inbox = await store.inbox.page(1, { streams, limit: 10 });
    expect(inbox.map((i) => [i.payload.message, i.read])).toEqual([
      ['c', false],
      ['b', true],
      ['a', true],
    ]);
    expect((await store.inbox.page(1, { streams, limit: 10, unreadOnly: true })).map((i) => i.payload.message)).toEqual(['c']);
  });

  it("starts a new account's unread count at its creation: earlier broadcasts and admin messages are listed as read", async () => {
    await store.streams.append('broadcast', 'system_message', { message: 'before alice' });
    await store.streams.append('admins', 'system_message', { message: 'before the admins' });
    const alice = await store.users.create('alice', 'hash', false);
    const boss = await store.users.create('boss', 'hash', true);
    await store.streams.append('broadcast', 'system_message', { message: 'after' });
    const aliceStreams = [`user:${alice.id}`, 'broadcast'];
    const bossStreams = [`user:${boss.id}`, 'admins', 'broadcast'];
    expect((await store.inbox.unread(alice.id, aliceStreams)).count).toBe(1);
    expect((await store.inbox.unread(boss.id, bossStreams)).count).toBe(1);
    expect((await store.inbox.page(alice.id, { streams: aliceStreams, limit: 10 })).map((i) => [i.payload.message, i.read])).toEqual([
      ['after', false],
      ['before alice', true],
    ]);
    expect((await store.inbox.page(boss.id, { streams: bossStreams, limit: 10, unreadOnly: true })).map((i) => i.payload.message)).toEqual(['after']);

    // Promoted later: the admins stream's past is not counted either; what follows is.
    await store.streams.append('admins', 'system_message', { message: 'while alice was not an admin' });
    await store.users.setAdmin(alice.id, true);
    await store.streams.append('admins', 'system_message', { message: 'for alice too' });
    const promoted = await store.inbox.page(alice.id, { streams: [`user:${alice.id}`, 'admins', 'broadcast'], limit: 10, unreadOnly: true });
    expect(promoted.map((i) => i.payload.message)).toEqual(['for alice too', 'after']);
    expect((await store.inbox.unread(boss.id, bossStreams)).count).toBe(3);
  });

  it('stores a request once per caller and key, also under concurrent retries', async () => {
    const item = { stream: 'broadcast', type: 'system_message', payload: { message: 'x' } };
    const once = { scope: 'service', key: 'key-1', hash: 'h', answer: (stored: { id: number }[]) => String(stored[0].id) };
    const results = await Promise.all([1, 2, 3, 4].map(() => store.streams.appendBatch([item], once)));
    expect(new Set(results.map((r) => ('earlier' in r ? r.earlier.answer : r.answer))).size).toBe(1);
    expect(results.filter((r) => 'stored' in r)).toHaveLength(1);
    expect((await store.streams.heads(['broadcast'])).broadcast.head).toBe(1);
  });

  it('refuses to mark another user’s notification', async () => {
    const foreign = await store.streams.append('user:2', 'system_message', { message: 'secret' });
    expect(await store.inbox.markRead(1, [foreign.id], ['user:1', 'broadcast'])).toEqual([]);
  });

  it('pages the inbox by cursor, stable while new notifications arrive', async () => {
    for (let i = 1; i <= 25; i++) await store.streams.append('broadcast', 'system_message', { message: `n${i}` });
    const first = await store.inbox.page(1, { streams: ['broadcast'], limit: 10 });
    for (let i = 26; i <= 30; i++) await store.streams.append('broadcast', 'system_message', { message: `n${i}` });
    const second = await store.inbox.page(1, { streams: ['broadcast'], limit: 10, before: first.at(-1)!.id });
    const third = await store.inbox.page(1, { streams: ['broadcast'], limit: 10, before: second.at(-1)!.id });
    const seen = [...first, ...second, ...third].map((i) => i.payload.message);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `n${25 - i}`));
  });

  it('prunes by count and by age and remembers how far', async () => {
    for (let i = 0; i < 30; i++) await store.streams.append('broadcast', 'system_message', { message: `m${i}` }, Date.now() - (i < 5 ? 10 * 86_400_000 : 0));
    expect(await store.retention.prune(86_400_000, 20)).toBe(10);
    expect((await store.streams.heads(['broadcast'])).broadcast).toEqual({ head: 30, pruned: 10 });
    expect((await store.streams.readStream('broadcast', 0, 100))[0].seq).toBe(11);
    expect(await store.retention.prune(86_400_000, 20)).toBe(0);
  });
});
