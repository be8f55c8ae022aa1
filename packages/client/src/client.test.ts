import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { HeraldClient, type HeraldClientOptions } from './client.js';
import type { OnlineSource } from './environment.js';
import { HeraldClientError } from './errors.js';
import { ManualTimers, TestServer, waitFor } from '@herald/testing/fake-server';

let server: TestServer;
let timers: ManualTimers;
const clients: HeraldClient[] = [];

beforeEach(async () => {
  server = await TestServer.start();
  timers = new ManualTimers();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

function makeClient(options: Partial<HeraldClientOptions> = {}): HeraldClient {
  const client = new HeraldClient({
    url: server.url,
    getToken: () => 'good-token',
    WebSocket: WebSocket as unknown as HeraldClientOptions['WebSocket'],
    timers,
    onlineSource: null,
    random: () => 0,
    // The fake server speaks WebSocket only: no SSE fallback (sse.integration.test.ts covers it).
    transports: ['websocket'],
    ...options,
  });
  clients.push(client);
  return client;
}

const persisted = (stream: string, offset: number, id: number, text = `m${id}`) => ({
  type: 'system_message' as const,
  message: text,
  level: 'info' as const,
  id,
  stream: stream as 'broadcast',
  offset,
});

describe('HeraldClient connecting', () => {
  it('sends the token as a bearer subprotocol by default and becomes open on connected', async () => {
    const client = makeClient();
    expect(client.getState()).toBe('connecting');
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    expect(conn.tokenVia).toBe('protocol');
    expect(conn.token).toBe('good-token');
    expect(conn.path).toBe('/api/v1/ws');
  });

  it('can send the token in the query and use the admin endpoint', async () => {
    const client = makeClient({ tokenTransport: 'query', isAdmin: true, getToken: () => 'admin-token' });
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    expect(conn.tokenVia).toBe('query');
    expect(conn.path).toBe('/api/v1/ws/admin');
  });

  it('emits typed events per message type and sends text and JSON', async () => {
    const client = makeClient();
    const progress = vi.fn();
    const off = client.on('transcode_progress', progress);
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 7, status: 'processing', progress: 45, message: 'x' });
    await waitFor(() => progress.mock.calls.length === 1);
    expect(progress.mock.calls[0][0]).toMatchObject({ video_id: 7, progress: 45 });
    expect(client.getSnapshot().lastMessage).toMatchObject({ type: 'transcode_progress' });
    off();
    const stats = vi.fn();
    client.on('stats', stats);
    expect(client.send('get_stats')).toBe(true);
    expect(client.send({ type: 'mark_read', ids: [1] })).toBe(true);
    await waitFor(() => stats.mock.calls.length === 1);
    await waitFor(() => conn.received.includes('{"type":"mark_read","ids":[1]}'));
  });

  it('does not connect from the constructor with autoConnect false', () => {
    const client = makeClient({ autoConnect: false });
    expect(client.getState()).toBe('closed');
    expect(client.send('ping')).toBe(false);
  });
});

describe('HeraldClient heartbeat', () => {
  it('pings on the interval and reconnects when no pong arrives within the timeout', async () => {
    server.options.answerPing = false;
    const client = makeClient({ heartbeatInterval: 1000, heartbeatTimeout: 500 });
    const disconnects: number[] = [];
    client.on('disconnect', (e) => disconnects.push(e.code));
    await waitFor(() => client.isConnected);
    const first = await server.connection(0);
    timers.advance(1000);
    await waitFor(() => first.received.includes('ping'));
    timers.advance(500);
    expect(disconnects).toEqual([4011]);
    expect(client.getState()).toBe('reconnecting');
    // the old socket is detached: whatever it still delivers is ignored
    const late = vi.fn();
    client.on('message', late);
    first.send({ type: 'transcode_progress', video_id: 1, status: 'processing', progress: 1, message: '' });
    await new Promise((r) => setTimeout(r, 30));
    expect(late).not.toHaveBeenCalled();
    timers.advance(3000);
    await server.connection(1);
    await waitFor(() => client.isConnected);
  });

  it('keeps the connection while pongs arrive', async () => {
    const client = makeClient({ heartbeatInterval: 1000, heartbeatTimeout: 500 });
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    for (let i = 1; i <= 3; i++) {
      timers.advance(1000);
      await waitFor(() => conn.received.filter((t) => t === 'ping').length === i);
      await waitFor(() => !timers.delays.includes(500));
    }
    timers.advance(600);
    expect(client.getState()).toBe('open');
    expect(server.connections).toHaveLength(1);
  });
});

describe('HeraldClient close codes', () => {
  it('on 4001 asks for a fresh token once, retries once, then reports an auth error without looping', async () => {
    const getToken = vi.fn(() => 'bad-token');
    const errors: HeraldClientError[] = [];
    const client = makeClient({ getToken, onError: (e) => errors.push(e) });
    await waitFor(() => client.getState() === 'closed' && errors.some((e) => e.code === 'ERR_AUTH'));
    expect(getToken.mock.calls.map((c) => (c as unknown as [{ forceRefresh: boolean }])[0].forceRefresh)).toEqual([false, true]);
    expect(server.connections).toHaveLength(2);
    timers.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.connections).toHaveLength(2);
    expect(timers.size).toBe(0);
    const auth = errors.find((e) => e.code === 'ERR_AUTH');
    expect(auth).toBeInstanceOf(HeraldClientError);
    expect(auth?.closeCode).toBe(4001);
  });

  it('on 4001 connects with the refreshed token', async () => {
    const getToken = vi.fn(({ forceRefresh }: { forceRefresh: boolean }) => (forceRefresh ? 'fresh' : 'bad-expired'));
    const client = makeClient({ getToken });
    await waitFor(() => client.isConnected);
    expect(server.connections.map((c) => c.token)).toEqual(['bad-expired', 'fresh']);
  });

  it('on 4003 gives up without retrying', async () => {
    const errors: string[] = [];
    const client = makeClient({ isAdmin: true, getToken: () => 'user-token', onError: (e) => errors.push(e.code) });
    await waitFor(() => client.getState() === 'closed');
    expect(errors).toContain('ERR_FORBIDDEN');
    timers.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.connections).toHaveLength(1);
  });

  it('on 1001 waits the reconnect_after_ms hint', async () => {
    const client = makeClient();
    await waitFor(() => client.isConnected);
    (await server.connection(0)).close(1001, 'restart; reconnect_after_ms=12345');
    await waitFor(() => client.getState() === 'reconnecting');
    expect(timers.delays).toEqual([12345]);
    timers.advance(12344);
    await new Promise((r) => setTimeout(r, 30));
    expect(server.connections).toHaveLength(1);
    timers.advance(1);
    await waitFor(() => client.isConnected && server.connections.length === 2);
  });

  it('stops after maxReconnectAttempts and reports it', async () => {
    const getToken = vi.fn(() => 'good');
    const errors: string[] = [];
    const client = makeClient({ getToken, maxReconnectAttempts: 3, onError: (e) => errors.push(e.code) });
    await waitFor(() => client.isConnected);
    server.options.refuse = true; // every reconnect is now refused
    server.dropAll();
    for (let i = 1; i <= 3; i++) {
      // attempt i failed: only the reconnect timer (3000 with random 0) is pending
      await waitFor(() => getToken.mock.calls.length === i && timers.size === 1 && timers.delays[0] === 3000);
      timers.advance(3000);
    }
    await waitFor(() => client.getState() === 'closed');
    expect(getToken).toHaveBeenCalledTimes(4); // first connect + 3 reconnects
    expect(errors).toContain('ERR_RECONNECT_EXHAUSTED');
  });

  it('grows reconnect delays between failed attempts', async () => {
    const getToken = vi.fn(() => 'good');
    const client = makeClient({ getToken, random: () => 0.999, reconnectInterval: 100, maxReconnectInterval: 1000, maxReconnectAttempts: Infinity });
    await waitFor(() => client.isConnected);
    server.options.refuse = true;
    server.dropAll();
    const seen: number[] = [];
    for (let i = 1; i <= 5; i++) {
      // after attempt i failed: only the reconnect timer is pending
      await waitFor(() => getToken.mock.calls.length === i && client.getState() === 'reconnecting' && timers.size === 1 && timers.delays[0] <= 1000);
      seen.push(timers.delays[0]);
      timers.advance(timers.delays[0]);
    }
    expect(seen).toEqual([199, 299, 499, 899, 1000]);
  });
});

describe('HeraldClient resume', () => {
  it('passes the highest offsets as since on reconnect and drops duplicates', async () => {
    const client = makeClient();
    const messages: number[] = [];
    client.on('system_message', (m) => messages.push(m.offset ?? -1));
    await waitFor(() => client.isConnected);
    const first = await server.connection(0);
    expect(first.since).toBeNull();
    first.send(persisted('broadcast', 1, 101));
    first.send(persisted('user:1', 4, 102));
    first.send(persisted('broadcast', 2, 103));
    first.send(persisted('broadcast', 2, 103)); // duplicate offset
    first.send(persisted('broadcast', 1, 101)); // older
    await waitFor(() => messages.length === 3);
    first.close(1011, 'boom');
    await waitFor(() => client.getState() === 'reconnecting');
    timers.advance(3000);
    const second = await server.connection(1);
    expect(second.since?.split(',').sort()).toEqual(['broadcast@2', 'user:1@4']);
    // replay overlapping the seam: offset 2 again, then 3
    second.send(persisted('broadcast', 2, 103));
    second.send(persisted('broadcast', 3, 104));
    second.send({ type: 'resumed', positions: { broadcast: 3, 'user:1': 4 }, replayed: 2 });
    await waitFor(() => messages.length === 4);
    expect(messages).toEqual([1, 4, 2, 3]);
    expect(client.positions).toEqual({ broadcast: 3, 'user:1': 4 });
  });

  it("follows the positions the server's connected message stands at, also backwards", async () => {
    server.heads = { 'user:1': 2, broadcast: 1 };
    const client = makeClient({ positions: { 'user:1': 40, admins: 3 } });
    const seen = vi.fn();
    client.on('system_message', seen);
    await waitFor(() => client.isConnected);
    expect((await server.connection(0)).since).toBe('user:1@40,admins@3');
    expect(client.positions).toEqual({ 'user:1': 2, broadcast: 1 }); // admins: not read by this connection
    (await server.connection(0)).send(persisted('user:1', 3, 1));
    await waitFor(() => seen.mock.calls.length === 1);
  });

  it('drops a message whose id was already seen in another stream', async () => {
    const client = makeClient();
    const seen = vi.fn();
    client.on('system_message', seen);
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    conn.send(persisted('broadcast', 1, 500));
    conn.send(persisted('user:1', 1, 500));
    conn.send(persisted('user:1', 2, 501));
    await waitFor(() => seen.mock.calls.length === 2);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveBeenCalledTimes(2);
  });

  it('on resync_required resets positions, refetches the inbox over HTTP and calls onResync', async () => {
    server.options.inbox = { items: [{ id: 9 }], next_cursor: null, unread_count: 6, unread_positions: { 'user:1': 60, broadcast: 0 } };
    const onResync = vi.fn();
    server.heads = { 'user:1': 60, broadcast: 0 };
    const client = makeClient({ onResync, positions: { 'user:1': 3 } });
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    expect(conn.since).toBe('user:1@3');
    conn.send({ type: 'resync_required', streams: ['user:1'], reason: 'retention', positions: { 'user:1': 50 } });
    await waitFor(() => onResync.mock.calls.length === 1);
    expect(server.requests).toEqual([{ path: '/api/v1/notifications', authorization: 'Bearer good-token' }]);
    expect(onResync.mock.calls[0][0]).toMatchObject({ streams: ['user:1'], inbox: { items: [{ id: 9 }] } });
    expect(client.positions).toEqual({ 'user:1': 50, broadcast: 0 });
    expect(client.unreadCount).toBe(6);
  });

  it('uses an injected fetch', async () => {
    const fetch = vi.fn(async () => ({ ok: true, status: 200, json: async () => ({ items: [], next_cursor: null, unread_count: 0, unread_positions: {} }) }));
    const client = makeClient({ fetch, httpUrl: 'https://api.example.com/' });
    await waitFor(() => client.isConnected);
    (await server.connection(0)).send({ type: 'resync_required', streams: ['broadcast'], reason: 'r', positions: { broadcast: 1 } });
    await waitFor(() => fetch.mock.calls.length === 1);
    expect(fetch.mock.calls[0]).toEqual([
      'https://api.example.com/api/v1/notifications',
      { method: 'GET', headers: { accept: 'application/json', authorization: 'Bearer good-token' } },
    ]);
  });
});

describe('HeraldClient unread count', () => {
  it('takes the server count, counts new messages, and ignores a count older than the applied one', async () => {
    server.options.unread = { count: 2, positions: { 'user:1': 10, broadcast: 5 } };
    const client = makeClient();
    await waitFor(() => client.isConnected);
    expect(client.unreadCount).toBe(2);
    const conn = await server.connection(0);
    conn.send(persisted('user:1', 11, 1));
    await waitFor(() => client.unreadCount === 3);
    // another device read everything, as of user:1@11
    conn.send({ type: 'notifications_read', ids: 'all', unread_count: 0, unread_positions: { 'user:1': 11, broadcast: 5 } });
    await waitFor(() => client.unreadCount === 0);
    // a late, older count (taken at user:1@10) must not bring the badge back
    conn.send({ type: 'notifications_read', ids: [1], unread_count: 2, unread_positions: { 'user:1': 10, broadcast: 5 } });
    conn.send(persisted('broadcast', 6, 2));
    await waitFor(() => client.unreadCount === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(client.unreadCount).toBe(1);
  });

  it('markRead sends mark_read / mark_all_read', async () => {
    const client = makeClient();
    await waitFor(() => client.isConnected);
    const conn = await server.connection(0);
    client.markRead([3, 4]);
    client.markRead();
    await waitFor(() => conn.received.length === 2);
    expect(conn.received).toEqual(['{"type":"mark_read","ids":[3,4]}', '{"type":"mark_all_read"}']);
  });
});

describe('HeraldClient environment', () => {
  function manualOnline(): OnlineSource & { emit(online: boolean): void; listeners: number } {
    const set = new Set<(online: boolean) => void>();
    return {
      subscribe(listener) {
        set.add(listener);
        return () => set.delete(listener);
      },
      emit(online) {
        for (const l of set) l(online);
      },
      get listeners() {
        return set.size;
      },
    };
  }

  it('reconnects at once when the device comes back online', async () => {
    const online = manualOnline();
    const client = makeClient({ onlineSource: online });
    await waitFor(() => client.isConnected);
    (await server.connection(0)).close(1011, 'boom');
    await waitFor(() => client.getState() === 'reconnecting');
    expect(timers.delays).toEqual([3000]);
    online.emit(false);
    online.emit(true);
    await waitFor(() => client.isConnected && server.connections.length === 2);
  });

  it('restarts when the device comes back online after reconnects ran out', async () => {
    const online = manualOnline();
    const errors: string[] = [];
    const client = makeClient({ onlineSource: online, maxReconnectAttempts: 0, onError: (e) => errors.push(e.code) });
    await waitFor(() => client.isConnected);
    (await server.connection(0)).close(1011, 'boom');
    await waitFor(() => client.getState() === 'closed');
    expect(errors).toContain('ERR_RECONNECT_EXHAUSTED');
    expect(timers.size).toBe(0);
    online.emit(true);
    await waitFor(() => client.isConnected && server.connections.length === 2);
  });

  it('releases every timer and listener on close and ignores the old socket', async () => {
    const online = manualOnline();
    const client = makeClient({ onlineSource: online, heartbeatInterval: 1000 });
    const states: string[] = [];
    client.on('state', (e) => states.push(e.state));
    await waitFor(() => client.isConnected);
    expect(online.listeners).toBe(1);
    expect(timers.size).toBeGreaterThan(0);
    client.close();
    expect(client.getState()).toBe('closed');
    expect(timers.size).toBe(0);
    expect(online.listeners).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(states).toEqual(['open', 'closed']);
  });

  it('reports server error messages through onError', async () => {
    const errors: HeraldClientError[] = [];
    const client = makeClient({ onError: (e) => errors.push(e) });
    await waitFor(() => client.isConnected);
    (await server.connection(0)).send({ type: 'error', code: 'ERR_UNKNOWN_COMMAND', message: 'unknown command "x"' });
    await waitFor(() => errors.length === 1);
    expect(errors[0].code).toBe('ERR_SERVER');
    expect(errors[0].message).toContain('ERR_UNKNOWN_COMMAND');
  });
});
