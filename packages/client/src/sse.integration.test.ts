// Against the real Herald server: the SSE transport, the fallback from a blocked WebSocket and the way back.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { sleep, startHerald, until, type TestHerald } from '@herald/testing/herald';
import { HeraldClient } from './index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(): Promise<TestHerald> {
  const herald = await startHerald();
  cleanups.push(() => herald.stop().catch(() => undefined));
  return herald;
}

/** A WebSocket whose upgrades fail (as behind a proxy that breaks them) while `blocked()` says so. */
function blockableWebSocket(blocked: () => boolean, attempts: string[]) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      const failing = blocked();
      attempts.push(failing ? 'blocked' : 'ws');
      // A path the server has no WebSocket at: the upgrade answers 404 and the socket closes with 1006.
      super(failing ? url.replace('/api/v1/ws', '/api/v1/no-ws') : url, protocols);
    }
  };
}

describe('HeraldClient over SSE', () => {
  it("uses SSE only with transports: ['sse']: messages, mark read and stats over HTTP", async () => {
    const herald = await node();
    const user = await herald.user('sse-only');
    const client = new HeraldClient({ url: herald.wsUrl, getToken: () => user.token, transports: ['sse'], heartbeatInterval: 0 }); // no WebSocket needed (Node 20 has none)
    cleanups.push(() => client.close());
    const received: string[] = [];
    client.on('system_message', (m) => void received.push(m.message));
    await until(() => client.getSnapshot().state === 'open', 5000, 'open');
    expect(client.transport).toBe('sse');
    expect(herald.manager.getConnectionCount().transports).toEqual({ ws: 0, sse: 1 });
    await herald.notifications.notifySystemMessage('a', 'info', user.id);
    await herald.notifications.notifySystemMessage('b', 'info', user.id);
    await until(() => client.unreadCount === 2, 5000, 'two unread');
    client.markRead();
    await until(() => client.unreadCount === 0, 5000, 'zero unread after mark_all_read over HTTP');
    const stats = new Promise((resolve) => client.on('stats', resolve));
    client.send({ type: 'get_stats' });
    expect(await stats).toMatchObject({ type: 'stats', connection_stats: { total_connections: 1 } });
    expect(received).toEqual(['a', 'b']);
  });

  it('refreshes its token in band over SSE (POST /api/v1/sse/refresh): same stream, every message once, mark read with the new token', async () => {
    const herald = await node();
    const user = await herald.user('sse-refresher');
    const asked: boolean[] = [];
    const sign = (ttl: number) => herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, ttl);
    const client = new HeraldClient({
      url: herald.wsUrl,
      getToken: async ({ forceRefresh }) => (asked.push(forceRefresh), sign(forceRefresh ? 3600 : 5)),
      transports: ['sse'],
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
      await sleep(50);
    }
    await until(() => received.length === sent, 5000, 'every message');
    expect(received).toEqual(Array.from({ length: sent }, (_, i) => `m${i + 1}`));
    expect(refreshed).toHaveLength(1);
    expect(asked).toEqual([false, true]);
    expect(disconnects).toBe(0);
    client.markRead();
    await until(() => client.unreadCount === 0, 5000, 'read with the refreshed token');
  }, 20_000);

  it('falls back to SSE after two failed upgrades, then back to WebSocket, each message once and in order', async () => {
    const herald = await node();
    const user = await herald.user('fallback');
    let blocked = true;
    const attempts: string[] = [];
    const client = new HeraldClient({
      url: herald.wsUrl,
      getToken: () => user.token,
      WebSocket: blockableWebSocket(() => blocked, attempts),
      reconnectInterval: 50,
      heartbeatInterval: 0,
      websocketRetryInterval: 1500,
    });
    cleanups.push(() => client.close());
    const received: string[] = [];
    client.on('system_message', (m) => void received.push(m.message));
    await until(() => client.getSnapshot().state === 'open', 10_000, 'open over SSE');
    expect(client.transport).toBe('sse');
    expect(attempts).toEqual(['blocked', 'blocked']);

    // Published while on SSE, across the switch back to WebSocket, and after it.
    let sent = 0;
    const publishing = (async () => {
      while (sent < 60) {
        await herald.notifications.notifySystemMessage(`m${sent++}`, 'info', sent % 2 ? user.id : 'all');
        await sleep(50);
      }
    })();
    await sleep(500);
    blocked = false;
    await until(() => client.transport === 'websocket' && client.getSnapshot().state === 'open', 10_000, 'back on WebSocket');
    await publishing;
    await until(() => received.length >= 60, 10_000, 'every message');
    await sleep(200);
    expect(received).toEqual(Array.from({ length: 60 }, (_, i) => `m${i}`));
    expect(herald.manager.getConnectionCount().transports).toEqual({ ws: 1, sse: 0 });
  });

  it('goes back to SSE at once when the WebSocket retry fails again', async () => {
    const herald = await node();
    const user = await herald.user('still-blocked');
    const attempts: string[] = [];
    const client = new HeraldClient({ url: herald.wsUrl, getToken: () => user.token, WebSocket: blockableWebSocket(() => true, attempts), reconnectInterval: 50, heartbeatInterval: 0, websocketRetryInterval: 300 });
    cleanups.push(() => client.close());
    await until(() => attempts.length >= 3 && client.transport === 'sse' && client.getSnapshot().state === 'open', 10_000, 'a retry and SSE again');
    expect(attempts.slice(0, 3)).toEqual(['blocked', 'blocked', 'blocked']);
  });
});
