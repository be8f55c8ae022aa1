import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, sleep, startHerald, type TestHerald } from '@herald/testing/herald';
import { channelFor } from '../broker/index.js';
import { wireText } from '../notifications/index.js';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(() => herald.stop());

describe('ConnectionManager', () => {
  it('routes personal, admin and broadcast notifications published through the NotificationService, and counts connections', async () => {
    const user = await herald.user('u1');
    const other = await herald.user('u2');
    const admin = await herald.user('a1', { admin: true });
    const u = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    const o = openSocket(`${herald.wsUrl}/api/v1/ws?token=${other.token}`);
    const a = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await Promise.all([u, o, a].map((s) => s.waitFor((m) => m.type === 'resumed')));
    expect(herald.manager.getConnectionCount()).toEqual({ total_users: 2, total_user_connections: 2, total_admin_connections: 1, total_connections: 3, transports: { ws: 3, sse: 0 } });

    await herald.notifications.publish(user.id, 'hello', {});
    await herald.notifications.publish('admin', 'system_alert', {});
    await herald.notifications.publish('all', 'announcement', {});
    expect(await u.waitFor((m) => m.type === 'hello')).toMatchObject({ type: 'hello', stream: `user:${user.id}`, offset: 1 });
    expect(await u.waitFor((m) => m.type === 'announcement')).toMatchObject({ stream: 'broadcast', offset: 1 });
    expect(await a.waitFor((m) => m.type === 'system_alert')).toMatchObject({ stream: 'admins', offset: 1 });
    expect(await o.waitFor((m) => m.type === 'announcement')).toMatchObject({ stream: 'broadcast', offset: 1 });
    // Progress is state, not a backlog: delivered to its target, never stored.
    await herald.notifications.publish(user.id, 'transcode_progress', { video_id: 1, status: 'processing', progress: 5, message: 'x' });
    expect(await u.waitFor((m) => m.type === 'transcode_progress')).toMatchObject({ video_id: 1, progress: 5 });
    await sleep(50);
    expect(o.of('hello')).toHaveLength(0);
    expect(o.of('transcode_progress')).toHaveLength(0);
    expect(u.of('system_alert')).toHaveLength(0);
    expect(await herald.store.streams.heads(['broadcast', 'admins', `user:${user.id}`])).toEqual({
      broadcast: expect.objectContaining({ head: 1 }),
      admins: expect.objectContaining({ head: 1 }),
      [`user:${user.id}`]: expect.objectContaining({ head: 1 }),
    });
    [u, o, a].forEach((s) => s.close());
    await Promise.all([u, o, a].map((s) => s.closed));
    await sleep(20);
    expect(herald.manager.getConnectionCount().total_connections).toBe(0);
  });

  it('hands messages that reach the broker out of offset order to every socket in order, with no store read per socket', async () => {
    // Concurrent publishers commit in one order and publish in another (PostgreSQL, several nodes).
    const admin = await herald.user('reorder-admin', { admin: true });
    const sockets = Array.from({ length: 8 }, () => openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`)); // WS_MAX_CONNECTIONS_PER_USER is 10
    await Promise.all(sockets.map((s) => s.waitFor((m) => m.type === 'resumed')));
    const first = await herald.store.streams.append('admins', 'system_message', { message: 'one', level: 'info' });
    const second = await herald.store.streams.append('admins', 'system_message', { message: 'two', level: 'info' });
    const third = await herald.store.streams.append('admins', 'system_message', { message: 'three', level: 'info' });
    const streams = herald.store.streams;
    const readStream = streams.readStream.bind(streams);
    let reads = 0;
    streams.readStream = (...args) => (reads++, readStream(...args));
    try {
      await herald.broker.publish(channelFor('admins'), wireText(first));
      await herald.broker.publish(channelFor('admins'), wireText(third));
      await sleep(10);
      await herald.broker.publish(channelFor('admins'), wireText(second));
      for (const s of sockets) {
        await s.waitFor((m) => m.message === 'three');
        expect(s.of('system_message').map((m) => m.message)).toEqual(['one', 'two', 'three']);
      }
      expect(reads).toBe(0);
    } finally {
      streams.readStream = readStream;
      sockets.forEach((s) => s.close());
    }
  });
});
