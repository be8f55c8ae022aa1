import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, parseSince } from '@herald/protocol';
import { openSocket, sleep, startHerald, until, type TestHerald } from '@herald/testing/herald';
import { openSse } from '@herald/testing/sse';

let herald: TestHerald;
let alice: Awaited<ReturnType<TestHerald['user']>>;
let root: Awaited<ReturnType<TestHerald['user']>>;

beforeAll(async () => {
  herald = await startHerald({ WS_MAX_CONNECTIONS_PER_USER: '3', BACKEND_CORS_ORIGINS: 'http://good.example', WS_HEARTBEAT_INTERVAL_MS: '200' });
  alice = await herald.user('alice');
  root = await herald.user('root', { admin: true });
});
afterAll(() => herald.stop());

const sseUrl = (token: string, extra = '') => `${herald.url}/api/v1/sse?token=${encodeURIComponent(token)}${extra}`;

describe('the SSE endpoints', () => {
  it('stream connected first, then the replay and live messages, each id naming the positions', async () => {
    const user = await herald.user('carol');
    const stream = openSse(sseUrl(user.token));
    const response = await stream.response;
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(response.headers['cache-control']).toContain('no-cache');
    await stream.waitFor((m) => m.type === 'resumed');
    expect(stream.messages[0].type).toBe('connected');
    expect(stream.messages[0]).toMatchObject({ user_id: String(user.id), node_id: herald.nodeId });
    await herald.notifications.notifySystemMessage('hello carol', 'info', user.id);
    const live = await stream.waitFor((m) => m.type === 'system_message');
    expect(live).toMatchObject({ stream: `user:${user.id}`, offset: 1, message: 'hello carol' });
    const id = stream.lastEventId()!;
    expect(parseSince(id)).toEqual({ ok: true, value: { [`user:${user.id}`]: 1, broadcast: expect.any(Number) } });
    stream.close();
  });

  it('resumes exactly once from Last-Event-ID (and from ?since=)', async () => {
    const user = await herald.user('dave');
    const first = openSse(sseUrl(user.token));
    await first.waitFor((m) => m.type === 'resumed');
    for (let i = 1; i <= 3; i++) await herald.notifications.notifySystemMessage(`m${i}`, 'info', user.id);
    await until(() => first.of('system_message').length === 3);
    const lastId = first.lastEventId()!;
    first.close();
    for (let i = 4; i <= 6; i++) await herald.notifications.notifySystemMessage(`m${i}`, 'info', user.id);
    // A browser reconnects to the same URL (with its original since) and sends Last-Event-ID: the header wins.
    const second = openSse(sseUrl(user.token, `&since=user:${user.id}@0`), { 'last-event-id': lastId });
    await second.waitFor((m) => m.type === 'resumed');
    expect(second.of('system_message').map((m) => m.message)).toEqual(['m4', 'm5', 'm6']);
    second.close();
    const third = openSse(sseUrl(user.token, `&since=${encodeURIComponent(`user:${user.id}@5`)}`));
    await third.waitFor((m) => m.type === 'resumed');
    expect(third.of('system_message').map((m) => m.message)).toEqual(['m6']);
    third.close();
  });

  it('refreshes its token in band over HTTP: the herald-session header names the stream, token_refreshed arrives on it', async () => {
    const user = await herald.user('refresher');
    const short = await herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 3);
    const stream = openSse(sseUrl(short));
    const session = (await stream.response).headers['herald-session'] as string;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    await stream.waitFor((m) => m.type === 'resumed');
    const post = (body: object) => fetch(`${herald.url}/api/v1/sse/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    expect((await post({ session, token: root.token })).status).toBe(202);
    expect(await stream.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_FORBIDDEN' });
    expect((await post({ session: 'nope', token: user.token })).status).toBe(400);

    const fresh = await herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 600);
    expect((await post({ session, token: fresh })).status).toBe(202);
    const refreshed = await stream.waitFor((m) => m.type === 'token_refreshed');
    expect(refreshed.expires_in).toBeGreaterThan(500);
    // Past the first token's expiry the stream is still open and still delivers.
    await sleep(3500);
    await herald.notifications.notifySystemMessage('after the refresh', 'info', user.id);
    expect(await stream.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'after the refresh' });
    expect(stream.messages.filter((m) => m.type === 'connected')).toHaveLength(1);
    stream.close();
  });

  it('takes the token from the Authorization header', async () => {
    const stream = openSse(`${herald.url}/api/v1/sse`, { authorization: `Bearer ${alice.token}` });
    await stream.waitFor((m) => m.type === 'connected');
    stream.close();
  });

  it.each([
    ['a missing token', () => openSse(`${herald.url}/api/v1/sse`), CloseCode.UNAUTHORIZED, 'token missing'],
    ['a malformed token', () => openSse(sseUrl('not-a-jwt')), CloseCode.UNAUTHORIZED, 'token malformed'],
    ['a refused origin', () => openSse(sseUrl(alice.token), { origin: 'http://evil.example' }), CloseCode.FORBIDDEN, 'origin not allowed'],
    ['a user on the admin endpoint', () => openSse(`${herald.url}/api/v1/sse/admin?token=${alice.token}`), CloseCode.FORBIDDEN, 'admin only'],
  ])('refuses %s with event: close and its code', async (_name, open, code, reason) => {
    const stream = open();
    const closed = await stream.ended;
    expect(closed).toEqual({ code, reason: expect.stringContaining(reason) });
    expect(stream.messages).toEqual([]);
  });

  it('answers an allowed origin with CORS headers', async () => {
    const stream = openSse(sseUrl(alice.token), { origin: 'http://good.example' });
    const response = await stream.response;
    expect(response.headers['access-control-allow-origin']).toBe('http://good.example');
    await stream.waitFor((m) => m.type === 'connected');
    stream.close();
  });

  it('serves the admin endpoint with the admins stream', async () => {
    const stream = openSse(`${herald.url}/api/v1/sse/admin?token=${root.token}`);
    const connected = await stream.waitFor((m) => m.type === 'connected');
    expect(connected).toMatchObject({ admin_id: String(root.id) });
    expect(Object.keys(connected.streams as object)).toContain('admins');
    stream.close();
  });

  it('counts connections per user over both transports', async () => {
    const user = await herald.user('erin');
    const ws = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    await ws.waitFor((m) => m.type === 'resumed');
    const a = openSse(sseUrl(user.token));
    const b = openSse(sseUrl(user.token));
    await Promise.all([a, b].map((s) => s.waitFor((m) => m.type === 'resumed')));
    const fourth = openSse(sseUrl(user.token));
    expect(await fourth.ended).toEqual({ code: CloseCode.TOO_MANY_CONNECTIONS, reason: expect.any(String) });

    const stats = (await (await fetch(`${herald.url}/api/v1/ws/stats`)).json()) as { transports: { ws: number; sse: number } };
    expect(stats.transports.sse).toBeGreaterThanOrEqual(2);
    expect(stats.transports.ws).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(`${herald.url}/metrics`)).text();
    expect(metrics).toMatch(/herald_ws_connections\{kind="user",transport="sse"\} [1-9]/);
    expect(metrics).toMatch(/herald_ws_connections\{kind="user",transport="ws"\} [1-9]/);
    for (const s of [a, b]) s.close();
    ws.close();
    await until(() => herald.manager.countOf(user.id) === 0);
  });

  it('writes heartbeat comments and closes with 4001 when the token expires', async () => {
    const user = await herald.user('frank');
    const shortLived = await herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 1);
    const stream = openSse(sseUrl(shortLived));
    await stream.waitFor((m) => m.type === 'connected');
    await sleep(500);
    expect(stream.comments.length).toBeGreaterThan(0);
    expect(await stream.ended).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token expired' });
  });

  it('is closed with 4001 when its user is deleted', async () => {
    const user = await herald.user('gina');
    const stream = openSse(sseUrl(user.token));
    await stream.waitFor((m) => m.type === 'resumed');
    await fetch(`${herald.url}/api/v1/users/${user.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${root.token}` } });
    expect((await stream.ended)?.code).toBe(CloseCode.UNAUTHORIZED);
  });
});

describe('the commands of an SSE client over HTTP', () => {
  it('marks several notifications read; the stream gets notifications_read', async () => {
    const user = await herald.user('hank');
    const stream = openSse(sseUrl(user.token));
    await stream.waitFor((m) => m.type === 'resumed');
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await herald.notifications.notifySystemMessage(`n${i}`, 'info', user.id)).stored[0].id);
    const response = await fetch(`${herald.url}/api/v1/notifications/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ids.slice(0, 2) }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ unread_count: 1 });
    const read = await stream.waitFor((m) => m.type === 'notifications_read');
    expect(read).toMatchObject({ unread_count: 1 });
    const bad = await fetch(`${herald.url}/api/v1/notifications/read`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ids: [] }),
    });
    expect(bad.status).toBe(400);
    stream.close();
  });
});
