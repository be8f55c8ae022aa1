import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, sleep, startHerald, type TestHerald } from '@herald/testing/herald';

let herald: TestHerald;
let admin: Awaited<ReturnType<TestHerald['user']>>;
let alice: Awaited<ReturnType<TestHerald['user']>>;
const SERVICE_KEY = 'service-key-0123456789abcdef';

beforeAll(async () => {
  herald = await startHerald({ HERALD_SERVICE_KEY: SERVICE_KEY, LOGIN_ATTEMPTS_PER_MINUTE: '5', BACKEND_CORS_ORIGINS: 'http://admin.example' });
  admin = await herald.user('boss', { admin: true });
  alice = await herald.user('alice');
});
afterAll(() => herald.stop());

async function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${herald.url}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, headers: res.headers };
}

describe('auth', () => {
  it('logs in, reads me, and rotates refresh tokens once', async () => {
    const login = await call('POST', '/api/v1/auth/login', { body: { username: 'alice', password: alice.password } });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ token_type: 'bearer', expires_in: 900, user: { id: String(alice.id), username: 'alice', is_admin: false } });
    expect((await call('GET', '/api/v1/auth/me', { token: login.body.access_token })).body).toMatchObject({ username: 'alice' });

    const refreshed = await call('POST', '/api/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(login.body.refresh_token);
    const reused = await call('POST', '/api/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    expect(reused).toMatchObject({ status: 401, body: { error: 'ERR_UNAUTHORIZED' } });
    // Reuse revokes the family: the token issued by the rotation is dead too.
    expect((await call('POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshed.body.refresh_token } })).status).toBe(401);
  });

  it('gives the same 401 for a wrong password and an unknown user, then rate limits', async () => {
    const wrong = await call('POST', '/api/v1/auth/login', { body: { username: 'alice', password: 'nope-nope' } });
    const unknown = await call('POST', '/api/v1/auth/login', { body: { username: 'ghost', password: 'nope-nope' } });
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    let last = 0;
    for (let i = 0; i < 6; i++) last = (await call('POST', '/api/v1/auth/login', { body: { username: 'ghost', password: 'x' } })).status;
    expect(last).toBe(429);
  });

  it('names the invalid field in a 400', async () => {
    const res = await call('POST', '/api/v1/auth/refresh', { body: { token: 'x' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'ERR_VALIDATION', message: 'body.refresh_token is required' });
    const notJson = await call('POST', '/api/v1/auth/refresh', { body: '{oops', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBeDefined();
  });

  it('refuses protected routes without a valid token', async () => {
    expect((await call('GET', '/api/v1/auth/me')).status).toBe(401);
    expect((await call('GET', '/api/v1/auth/me', { token: 'garbage' })).body).toMatchObject({ error: 'ERR_UNAUTHORIZED', message: 'token malformed' });
  });
});

describe('users', () => {
  it('lets admins list and create users, and nobody else', async () => {
    expect((await call('GET', '/api/v1/users', { token: alice.token })).status).toBe(403);
    const created = await call('POST', '/api/v1/users', { token: admin.token, body: { username: 'newbie', password: 'long-enough', is_admin: false } });
    expect(created).toMatchObject({ status: 201, body: { username: 'newbie', is_admin: false } });
    expect(created.body.password_hash).toBeUndefined();
    expect((await call('POST', '/api/v1/users', { token: admin.token, body: { username: 'newbie', password: 'long-enough' } })).status).toBe(409);
    expect((await call('POST', '/api/v1/users', { token: admin.token, body: { username: 'x y', password: 'long-enough' } })).status).toBe(400);
    const list = await call('GET', '/api/v1/users', { token: admin.token });
    expect(list.body.map((u: { username: string }) => u.username)).toEqual(expect.arrayContaining(['boss', 'alice', 'newbie']));
  });

  it('closes the admin sockets of a demoted admin and every socket of a deleted user', async () => {
    const temp = await herald.user('temp-admin', { admin: true });
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${temp.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    expect((await call('PATCH', `/api/v1/users/${temp.id}`, { token: admin.token, body: { is_admin: false } })).body).toMatchObject({ is_admin: false });
    expect(await socket.closed).toEqual({ code: CloseCode.FORBIDDEN, reason: 'admin rights revoked' });

    const userSocket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${temp.token}`);
    await userSocket.waitFor((m) => m.type === 'resumed');
    expect((await call('DELETE', `/api/v1/users/${temp.id}`, { token: admin.token })).status).toBe(204);
    expect(await userSocket.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'user deleted' });
    expect((await call('DELETE', `/api/v1/users/${temp.id}`, { token: admin.token })).status).toBe(404);
  });
});

describe('notifications over HTTP', () => {
  it('accepts system messages from admins and the service key, validating the body', async () => {
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${alice.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const sent = await call('POST', '/api/v1/notifications', { token: SERVICE_KEY, body: { message: 'hi alice', level: 'success', target: alice.id } });
    expect(sent).toMatchObject({ status: 202, body: { stream: `user:${alice.id}`, offset: 1 } });
    expect(await socket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'hi alice', level: 'success', id: sent.body.ids[0] });
    expect((await call('POST', '/api/v1/notifications', { token: alice.token, body: { message: 'x' } })).status).toBe(403);
    const badLevel = await call('POST', '/api/v1/notifications', { token: admin.token, body: { message: 'x', level: 'loud' } });
    expect(badLevel).toMatchObject({ status: 400, body: { error: 'ERR_VALIDATION', message: 'body.level must be one of info, success, warning, error' } });
    const badTarget = await call('POST', '/api/v1/notifications', { token: admin.token, body: { message: 'x', target: 'everyone' } });
    expect(badTarget.body.message).toBe('body.target must be one of admin, all or a user id (or a list of user ids); not user ids: "everyone"; nothing was sent');
    expect((await call('POST', '/api/v1/notifications', { token: admin.token, body: { message: 'x', target: 424242 } })).status).toBe(404);
    socket.close();
  });

  it('sends a notification once per Idempotency-Key, however often the producer retries', async () => {
    const carl = await herald.user('carl-idem');
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${carl.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const send = () => call('POST', '/api/v1/notifications', { token: SERVICE_KEY, body: { message: 'once', target: carl.id }, headers: { 'idempotency-key': 'job-42-done' } });
    const [first, ...retries] = await Promise.all([send(), send(), send()]);
    const again = await send();
    for (const res of [first, ...retries, again]) expect(res).toMatchObject({ status: 202, body: { ids: first.body.ids } });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await socket.waitFor((m) => m.type === 'system_message');
    await sleep(100);
    expect(socket.of('system_message')).toHaveLength(1);
    expect((await herald.store.streams.heads([`user:${carl.id}`]))[`user:${carl.id}`].head).toBe(1);
    socket.close();
  });

  it('serves the inbox with pagination and read state, never another user’s notifications', async () => {
    const bob = await herald.user('bob-inbox');
    for (let i = 0; i < 5; i++) await herald.notifications.notifySystemMessage(`bob ${i}`, 'info', bob.id);
    const page1 = await call('GET', '/api/v1/notifications?limit=3', { token: bob.token });
    expect(page1.body.items.map((i: { message: string }) => i.message)).toEqual(['bob 4', 'bob 3', 'bob 2']);
    expect(page1.body.unread_count).toBe(5);
    const page2 = await call('GET', `/api/v1/notifications?limit=3&cursor=${page1.body.next_cursor}`, { token: bob.token });
    expect(page2.body.items.map((i: { message: string }) => i.message)).toEqual(['bob 1', 'bob 0']);
    expect(page2.body.next_cursor).toBeNull();

    const id = page1.body.items[0].id;
    expect((await call('POST', `/api/v1/notifications/${id}/read`, { token: alice.token })).status).toBe(404);
    expect((await call('POST', `/api/v1/notifications/${id}/read`, { token: bob.token })).body).toMatchObject({ unread_count: 4 });
    const unread = await call('GET', '/api/v1/notifications?unread=true&limit=10', { token: bob.token });
    expect(unread.body.items).toHaveLength(4);
    expect((await call('GET', '/api/v1/notifications/unread-count', { token: bob.token })).body.unread_count).toBe(4);
    const aliceInbox = await call('GET', '/api/v1/notifications?limit=100', { token: alice.token });
    expect(aliceInbox.body.items.map((i: { message: string }) => i.message)).not.toContain('bob 0');
    expect((await call('GET', '/api/v1/notifications?limit=1000', { token: bob.token })).status).toBe(400);
    await herald.notifications.notifySystemMessage('bob warned', 'warning', bob.id);
    const warnings = await call('GET', '/api/v1/notifications?level=warning,error', { token: bob.token });
    expect(warnings.body.items.map((i: { message: string }) => i.message)).toEqual(['bob warned']);
    expect((await call('GET', '/api/v1/notifications?level=loud', { token: bob.token })).body).toMatchObject({ statusCode: 400, message: 'querystring.level must be a comma-separated list of info, success, warning, error' });
    expect((await call('POST', '/api/v1/notifications/abc/read', { token: bob.token })).body).toMatchObject({ statusCode: 400, message: 'params.id must be an integer' });
  });
});

describe('operations', () => {
  it('serves stats, health, readiness, metrics and OpenAPI docs', async () => {
    expect((await call('GET', '/api/v1/ws/stats')).body).toEqual({ total_users: 0, total_user_connections: 0, total_admin_connections: 0, total_connections: 0, transports: { ws: 0, sse: 0 } });
    expect((await call('GET', '/api/v1/ws/stats?by_node=true')).body.nodes).toEqual({ [herald.nodeId]: expect.any(Object) });
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).body).toMatchObject({ status: 'ready', checks: { store: { ok: true }, broker: { ok: true } } });
    const metrics = await call('GET', '/metrics');
    expect(metrics.body).toContain('herald_ws_connections');
    expect(metrics.body).toContain('herald_auth_failures_total');
    expect(metrics.body).toMatch(/herald_messages_sent_total\{type="connected"\} [1-9]/);
    const docs = await call('GET', '/docs/json');
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/notifications', '/api/v1/ws/stats']));
    expect((await call('GET', '/api/v1/nope')).body).toMatchObject({ error: 'ERR_NOT_FOUND' });
  });

  it('counts each stored notification once in herald_notifications_published_total, by type and stream', async () => {
    const published = async () => {
      const text = (await call('GET', '/metrics')).body as string;
      const read = (labels: string) => Number(new RegExp(`herald_notifications_published_total\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? 0);
      return {
        broadcast: read('type="system_message",stream="broadcast"'),
        user: read('type="system_message",stream="user"'),
        admins: read('type="transcode_failed",stream="admins"'),
        progress: text.includes('herald_notifications_published_total{type="transcode_progress"'),
      };
    };
    const before = await published();
    const send = () => call('POST', '/api/v1/notifications', { token: SERVICE_KEY, body: { message: 'counted once' }, headers: { 'idempotency-key': 'metrics-once' } });
    expect((await send()).status).toBe(202);
    expect((await send()).headers.get('idempotent-replayed')).toBe('true');
    await herald.notifications.notifySystemMessage('to alice', 'info', alice.id);
    await herald.notifications.notifyTranscodeProgress(7, 'processing', 10, 'ephemeral, not stored');
    await herald.notifications.notifyTranscodeFailed(7, 'clip', 'boom');
    const after = await published();
    expect({ broadcast: after.broadcast - before.broadcast, user: after.user - before.user, admins: after.admins - before.admins }).toEqual({ broadcast: 1, user: 1, admins: 1 });
    expect(after.progress).toBe(false);
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const ok = await call('OPTIONS', '/api/v1/auth/login', { headers: { origin: 'http://admin.example', 'access-control-request-method': 'POST' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://admin.example');
    const no = await call('OPTIONS', '/api/v1/auth/login', { headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(no.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('shutdown', () => {
  it('closes WebSockets with 1001 and a reconnect hint', async () => {
    const node = await startHerald();
    const user = await node.user('leaver');
    const socket = openSocket(`${node.wsUrl}/api/v1/ws?token=${user.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    const stopping = node.stop();
    const closed = await socket.closed;
    await stopping;
    expect(closed.code).toBe(CloseCode.GOING_AWAY);
    expect(closed.reason).toMatch(/reconnect_after_ms=\d+/);
    await sleep(10);
  });
});

describe('logging', () => {
  it('never writes a token from the query string to the log', async () => {
    const lines: string[] = [];
    const node = await startHerald({ LOG_LEVEL: 'info' }, { logStream: { write: (line) => void lines.push(line) } });
    try {
      const user = await node.user('logged');
      await fetch(`${node.url}/api/v1/ws/stats?token=${user.token}`);
      const socket = openSocket(`${node.wsUrl}/api/v1/ws?token=${user.token}`);
      await socket.waitFor((m) => m.type === 'resumed');
      socket.close();
      await socket.closed;
      await sleep(50);
      const log = lines.join('');
      expect(log).toContain('/api/v1/ws/stats?[redacted]');
      expect(log).toContain('User WebSocket connected');
      expect(log).not.toContain(user.token);
    } finally {
      await node.stop();
    }
  });
});
