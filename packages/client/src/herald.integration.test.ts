// Against the real Herald server: the SDK's resume, token refresh and unread rules end to end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHerald, until, type TestHerald } from '@herald/testing/herald';
import { HeraldClient } from './index.js';

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret-0123456789');
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(dataDir: string, port = '0'): Promise<TestHerald> {
  const herald = await startHerald({ PORT: port }, { dataDir });
  cleanups.push(() => herald.stop().catch(() => undefined));
  return herald;
}

describe('HeraldClient against a real Herald', () => {
  it('resumes across a server restart: every notification exactly once, in order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-client-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let herald = await node(dataDir);
    const port = new URL(herald.url).port;
    const admin = await herald.user('admin', { admin: true });
    const received: string[] = [];
    const client = new HeraldClient({ url: herald.wsUrl, isAdmin: true, getToken: () => admin.token, WebSocket, reconnectInterval: 50, maxReconnectAttempts: Infinity, heartbeatInterval: 0 });
    cleanups.push(() => client.close());
    client.on('system_message', (m) => void received.push(m.message));
    await until(() => client.getSnapshot().state === 'open', 5000, 'open');
    await herald.notifications.notifySystemMessage('one', 'info', 'admin');
    await until(() => received.length === 1);
    await herald.stop();
    herald = await node(dataDir, port);
    await herald.notifications.notifySystemMessage('two', 'info', 'admin');
    await herald.notifications.notifySystemMessage('three', 'info', 'all');
    await until(() => received.length === 3, 10_000, 'three messages');
    await herald.notifications.notifySystemMessage('four', 'info', 'admin');
    await until(() => received.length === 4);
    expect(received).toEqual(['one', 'two', 'three', 'four']);
  });

  it('delivers custom events as typed events, counts stored ones unread and finds them in the inbox', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-client-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const herald = await node(dataDir);
    const user = await herald.user('shopper');
    const client = new HeraldClient({ url: herald.wsUrl, getToken: () => user.token, WebSocket, heartbeatInterval: 0 });
    cleanups.push(() => client.close());
    const all: string[] = [];
    const shipped: number[] = [];
    client.on('event', (e) => void all.push(e.type));
    client.onEvent<{ order: number }>('order.shipped', (e) => void shipped.push(e.data.order));
    await until(() => client.getSnapshot().state === 'open', 5000, 'open');
    await herald.notifications.publishEvents(
      [
        { type: 'order.shipped', target: { users: [String(user.id)] }, fields: { data: { order: 42 } }, persist: true },
        { type: 'chat:typing', target: { users: [String(user.id)] }, fields: { data: { who: 'bob' } }, persist: false },
      ],
      () => undefined,
    );
    await until(() => all.length === 2, 5000, 'two custom events');
    expect(all).toEqual(['order.shipped', 'chat:typing']);
    expect(shipped).toEqual([42]);
    expect(client.unreadCount).toBe(1);
    const inbox = await client.fetchInbox();
    expect(inbox.items).toEqual([expect.objectContaining({ type: 'order.shipped', data: { order: 42 }, read: false })]);
    expect(inbox.unread_count).toBe(1);
  });

  it('refreshes its token once on 4001 and then connects', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-client-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const herald = await node(dataDir);
    const user = await herald.user('user');
    const expired = await new SignJWT({ typ: 'access', name: 'user' }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(user.id)).setExpirationTime(Math.floor(Date.now() / 1000) - 10).sign(SECRET);
    const asked: boolean[] = [];
    const client = new HeraldClient({
      url: herald.wsUrl,
      getToken: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? user.token : expired;
      },
      WebSocket,
      heartbeatInterval: 0,
    });
    cleanups.push(() => client.close());
    await until(() => client.getSnapshot().state === 'open', 5000, 'open');
    expect(asked).toEqual([false, true]);
  });

  it('keeps the unread badge of two devices in step', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-client-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const herald = await node(dataDir);
    const user = await herald.user('reader');
    const devices = [0, 1].map(() => new HeraldClient({ url: herald.wsUrl, getToken: () => user.token, WebSocket, heartbeatInterval: 0 }));
    devices.forEach((d) => cleanups.push(() => d.close()));
    await until(() => devices.every((d) => d.getSnapshot().state === 'open'), 5000, 'open');
    await herald.notifications.notifySystemMessage('a', 'info', user.id);
    await herald.notifications.notifySystemMessage('b', 'info', 'all');
    await until(() => devices.every((d) => d.getSnapshot().unreadCount === 2), 5000, 'two unread on both');
    devices[0].markRead();
    await until(() => devices.every((d) => d.getSnapshot().unreadCount === 0), 5000, 'zero on both');
  });

  it('refreshes its token in-band before expiry: same socket, every message once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-client-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const herald = await node(dataDir);
    const user = await herald.user('refresher');
    const asked: boolean[] = [];
    const client = new HeraldClient({
      url: herald.wsUrl,
      getToken: async ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return forceRefresh ? herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 3600) : herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 5);
      },
      WebSocket,
      heartbeatInterval: 0,
    });
    cleanups.push(() => client.close());
    const received: string[] = [];
    let disconnects = 0;
    client.on('system_message', (m) => void received.push(m.message));
    client.on('disconnect', () => void disconnects++);
    const refreshed: unknown[] = [];
    client.on('token_refreshed', (m) => void refreshed.push(m));
    await until(() => client.getSnapshot().state === 'open', 5000, 'open');
    let sent = 0;
    const deadline = Date.now() + 7000; // past the first token's expiry
    while (Date.now() < deadline) {
      await herald.notifications.notifySystemMessage(`m${++sent}`, 'info', user.id);
      await new Promise((r) => setTimeout(r, 25));
    }
    await until(() => received.length === sent, 5000, 'every message');
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => `m${i + 1}`));
    expect(refreshed).toHaveLength(1);
    expect(asked).toEqual([false, true]);
    expect(disconnects).toBe(0);
  }, 20_000);
});
