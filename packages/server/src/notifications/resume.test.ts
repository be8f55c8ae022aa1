import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSince, type StreamPosition } from '@herald/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSocket, sleep, startHerald, until, type TestHerald, type TestSocket } from '@herald/testing/herald';
import { STORE_TARGETS } from '@herald/testing/stores';

type Person = Awaited<ReturnType<TestHerald['user']>>;

/** Publishes `count` system messages to the targets from `producers` concurrent producers. */
async function produce(herald: TestHerald, count: number, producers: number, targets: Array<'admin' | 'all' | number>, tag: string, paceMs = 0): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (next < count) {
        const i = next++;
        await herald.notifications.notifySystemMessage(`${tag}-${i}`, 'info', targets[i % targets.length]);
        if (paceMs) await sleep(paceMs);
      }
    }),
  );
}

/** Offsets received per stream, in arrival order. */
function offsetsByStream(sockets: TestSocket[]): Record<string, number[]> {
  const result: Record<string, number[]> = {};
  for (const socket of sockets) {
    for (const m of socket.of('system_message')) (result[String(m.stream)] ??= []).push(Number(m.offset));
  }
  return result;
}

function lastPositions(socket: TestSocket, base: StreamPosition): StreamPosition {
  const positions = { ...base };
  for (const m of socket.of('system_message')) positions[String(m.stream)] = Number(m.offset);
  return positions;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(STORE_TARGETS)('resume on $name', (target) => {
  let herald: TestHerald;
  let env: Record<string, string>;
  let dispose: () => Promise<void>;
  let dataDir: string;
  let admin: Person;
  let user: Person;

  beforeEach(async () => {
    const loc = await target.location();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-resume-'));
    env = { ...loc.env, DATA_DIR: dataDir };
    dispose = loc.dispose;
    herald = await startHerald(env, { dataDir });
    admin = await herald.user('admin1', { admin: true });
    user = await herald.user('viewer');
  });
  afterEach(async () => {
    await herald.stop();
    await dispose();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const adminUrl = (h: TestHerald, since?: StreamPosition) =>
    `${h.wsUrl}/api/v1/ws/admin?token=${admin.token}${since ? `&since=${encodeURIComponent(formatSince(since))}` : ''}`;

  async function open(url: string): Promise<{ socket: TestSocket; positions: StreamPosition }> {
    const socket = openSocket(url);
    const resumed = await socket.waitFor((m) => m.type === 'resumed', 15_000);
    return { socket, positions: resumed.positions as StreamPosition };
  }

  it('replays 1,000 notifications missed after an abrupt disconnect exactly once, in order', async () => {
    const first = await open(adminUrl(herald));
    first.socket.ws.terminate();
    await first.socket.closed;
    await produce(herald, 1000, 4, ['admin', 'all', admin.id, user.id], 'gap');
    const second = await open(adminUrl(herald, first.positions));
    const resumed = second.socket.of('resumed')[0];
    expect(resumed.replayed).toBe(750);
    const got = offsetsByStream([second.socket]);
    expect(got).toEqual({ admins: range(1, 250), broadcast: range(1, 250), [`user:${admin.id}`]: range(1, 250) });
    second.socket.close();
  });

  it('has no gap and no duplicate at the seam when publishing continues during the reconnect', async () => {
    const first = await open(adminUrl(herald));
    const producing = produce(herald, 600, 3, ['admin', 'all'], 'seam', 2);
    await until(() => first.socket.of('system_message').length >= 50, 5000, 'first messages');
    first.socket.ws.terminate();
    await first.socket.closed;
    const since = lastPositions(first.socket, first.positions);
    await sleep(20);
    const second = await open(adminUrl(herald, since));
    await producing;
    await until(() => second.socket.of('system_message').filter((m) => m.stream === 'admins' || m.stream === 'broadcast').length + first.socket.of('system_message').length >= 600, 15_000, 'all 600');
    await sleep(100);
    const resumedAt = second.socket.received.findIndex((m) => typeof m === 'object' && m.type === 'resumed');
    const liveAfterResume = second.socket.received.slice(resumedAt).filter((m) => typeof m === 'object' && m.type === 'system_message');
    expect(second.socket.of('resumed')[0].replayed).toBeGreaterThan(0);
    expect(liveAfterResume.length).toBeGreaterThan(0);
    const firstGot = offsetsByStream([first.socket]);
    const secondGot = offsetsByStream([second.socket]);
    for (const stream of ['admins', 'broadcast']) {
      expect([...(firstGot[stream] ?? []), ...(secondGot[stream] ?? [])]).toEqual(range(1, 300));
    }
    second.socket.close();
  });

  it('resumes across a server restart on the same data', async () => {
    const first = await open(adminUrl(herald));
    await produce(herald, 10, 1, ['admin'], 'before');
    await first.socket.waitFor((m) => m.type === 'system_message' && m.offset === 10);
    const since = lastPositions(first.socket, first.positions);
    await herald.stop();
    await (first.socket.closed);
    herald = await startHerald(env, { dataDir });
    await produce(herald, 5, 1, ['admin'], 'after');
    const second = await open(adminUrl(herald, since));
    expect(offsetsByStream([second.socket]).admins).toEqual(range(11, 15));
    second.socket.close();
  });

  it('asks for a resync when the positions are older than retention', async () => {
    await produce(herald, 30, 1, ['all'], 'old');
    await herald.store.retention.prune(86_400_000, 10);
    const { socket } = await open(adminUrl(herald, { broadcast: 5 }));
    expect(socket.of('resync_required')[0]).toMatchObject({ streams: ['broadcast'], positions: expect.objectContaining({ broadcast: 30 }) });
    expect(socket.of('system_message')).toHaveLength(0);
    socket.close();
  });

  it('rejects malformed, foreign and future positions with an error and carries on live', async () => {
    const bad = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}&since=${encodeURIComponent('nonsense')}`);
    expect(bad.socket.of('error')[0]).toMatchObject({ code: 'ERR_INVALID_SINCE' });
    bad.socket.close();
    const foreign = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}&since=${encodeURIComponent(`user:${admin.id}@0,admins@0`)}`);
    expect(foreign.socket.of('error').map((e) => e.message)).toEqual([
      expect.stringContaining(`user:${admin.id}`),
      expect.stringContaining('admins'),
    ]);
    foreign.socket.close();
    await herald.notifications.notifySystemMessage('private', 'info', admin.id);
    const future = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}&since=broadcast@99`);
    expect(future.socket.of('error')[0]).toMatchObject({ code: 'ERR_INVALID_SINCE', message: expect.stringContaining('broadcast') });
    await herald.notifications.notifySystemMessage('live', 'info', 'all');
    expect(await future.socket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'live', offset: 1 });
    expect(future.socket.of('system_message').map((m) => m.message)).not.toContain('private');
    future.socket.close();
  });

  it('keeps unread counts consistent across devices and restarts', async () => {
    const a = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    const b = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    await produce(herald, 3, 1, [user.id], 'u');
    const third = await a.socket.waitFor((m) => m.type === 'system_message' && m.offset === 3);
    a.socket.ws.send(JSON.stringify({ type: 'mark_read', ids: [third.id] }));
    for (const device of [a, b]) {
      expect(await device.socket.waitFor((m) => m.type === 'notifications_read')).toMatchObject({ unread_count: 2, ids: [third.id] });
    }
    const res = await fetch(`${herald.url}/api/v1/notifications/read-all`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` } });
    expect(await res.json()).toEqual({ unread_count: 0, unread_positions: { [`user:${user.id}`]: 3, broadcast: 0 } });
    expect(await b.socket.waitFor((m) => m.type === 'notifications_read')).toMatchObject({ ids: 'all', unread_count: 0 });
    await produce(herald, 2, 1, ['all'], 'later');
    await herald.stop();
    herald = await startHerald(env, { dataDir });
    const c = await open(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    expect(c.socket.of('connected')[0]).toMatchObject({ unread_count: 2, unread_positions: { [`user:${user.id}`]: 3, broadcast: 2 } });
    c.socket.close();
  });
});
