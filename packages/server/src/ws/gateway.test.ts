import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { WebSocket } from 'ws';
import { openSocket, sleep, startHerald, type TestHerald } from '@herald/testing/herald';

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret-0123456789');

let herald: TestHerald;
let alice: Awaited<ReturnType<TestHerald['user']>>;
let bob: Awaited<ReturnType<TestHerald['user']>>;
let admin: Awaited<ReturnType<TestHerald['user']>>;

beforeAll(async () => {
  herald = await startHerald({ WS_MAX_MESSAGES_PER_SECOND: '30', WS_MAX_CONNECTIONS_PER_USER: '3', BACKEND_CORS_ORIGINS: 'http://good.example' });
  alice = await herald.user('alice');
  bob = await herald.user('bob');
  admin = await herald.user('root', { admin: true });
});
afterAll(() => herald.stop());

const userUrl = (token: string, extra = '') => `${herald.wsUrl}/api/v1/ws?token=${encodeURIComponent(token)}${extra}`;
const adminUrl = (token: string) => `${herald.wsUrl}/api/v1/ws/admin?token=${encodeURIComponent(token)}`;

async function connected(url: string, options?: Parameters<typeof openSocket>[1]) {
  const socket = openSocket(url, options);
  await socket.waitFor((m) => m.type === 'resumed');
  return socket;
}

const sign = (claims: Record<string, unknown>, setup: (jwt: SignJWT) => SignJWT = (j) => j) =>
  setup(new SignJWT({ typ: 'access', ...claims }).setProtectedHeader({ alg: 'HS256' })).sign(SECRET);

describe('authentication at the WebSocket endpoints', () => {
  it.each([
    ['missing', () => `${herald.wsUrl}/api/v1/ws`, 'token missing'],
    ['malformed', () => userUrl('not-a-jwt'), 'token malformed'],
    ['signed with another secret', async () => userUrl(await new SignJWT({ typ: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(alice.id)).setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(40)))), 'token invalid'],
    ['alg none', () => userUrl(new UnsecuredJWT({ typ: 'access' }).setSubject(String(alice.id)).setExpirationTime('1h').encode()), 'token'],
    ['expired', async () => userUrl(await sign({}, (j) => j.setSubject(String(alice.id)).setExpirationTime(Math.floor(Date.now() / 1000) - 60))), 'token expired'],
    ['not yet valid', async () => userUrl(await sign({}, (j) => j.setSubject(String(alice.id)).setNotBefore(Math.floor(Date.now() / 1000) + 600).setExpirationTime('2h'))), 'token not yet valid'],
    ['without exp', async () => userUrl(await sign({}, (j) => j.setSubject(String(alice.id)))), 'token invalid'],
    ['of an unknown user', async () => userUrl(await sign({}, (j) => j.setSubject('99999').setExpirationTime('1h'))), 'token invalid'],
  ])('refuses a %s token with 4001 after completing the upgrade', async (_name, url, reason) => {
    const socket = openSocket(await url());
    const closed = await socket.closed;
    expect(closed.code).toBe(CloseCode.UNAUTHORIZED);
    expect(closed.reason).toContain(reason);
    expect(socket.of('connected')).toHaveLength(0);
  });

  it('refuses a non-admin on the admin endpoint with 4003', async () => {
    const closed = await openSocket(adminUrl(alice.token)).closed;
    expect(closed).toEqual({ code: CloseCode.FORBIDDEN, reason: 'admin only' });
  });

  it('refuses a disallowed Origin with 4003 and accepts an allowed one', async () => {
    const refused = await openSocket(userUrl(alice.token), { headers: { Origin: 'http://evil.example' } }).closed;
    expect(refused).toEqual({ code: CloseCode.FORBIDDEN, reason: 'origin not allowed' });
    const ok = await connected(userUrl(alice.token), { headers: { Origin: 'http://good.example' } });
    ok.close();
  });

  it('accepts the token as the bearer subprotocol', async () => {
    const socket = await connected(`${herald.wsUrl}/api/v1/ws`, { protocols: ['bearer', alice.token] });
    expect(socket.ws.protocol).toBe('bearer');
    expect(socket.of('connected')[0]).toMatchObject({ user_id: String(alice.id) });
    socket.close();
  });

  it('closes with 4001 when the token expires while connected', async () => {
    const token = await sign({ name: 'alice' }, (j) => j.setSubject(String(alice.id)).setExpirationTime(Math.floor(Date.now() / 1000) + 1));
    const socket = await connected(userUrl(token));
    const closed = await socket.closed;
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token expired' });
  });

  it('answers 404 for an unknown WebSocket path', async () => {
    const ws = new WebSocket(`${herald.wsUrl}/api/v1/nope`);
    ws.on('error', () => undefined);
    const status = await new Promise<number>((resolve) =>
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        res.destroy();
      }),
    );
    expect(status).toBe(404);
  });
});

describe('messages and commands', () => {
  it('sends connected with the specification shape, then answers ping and get_stats', async () => {
    const socket = await connected(adminUrl(admin.token));
    const hello = socket.of('connected')[0];
    expect(hello).toMatchObject({ type: 'connected', admin_id: String(admin.id), message: expect.stringContaining('root') });
    expect(hello.connection_stats).toEqual({
      total_users: expect.any(Number),
      total_user_connections: expect.any(Number),
      total_admin_connections: expect.any(Number),
      total_connections: expect.any(Number),
      transports: { ws: expect.any(Number), sse: expect.any(Number) },
    });
    expect(new Date(String(hello.timestamp)).toISOString()).toBe(hello.timestamp);
    socket.ws.send('ping');
    await socket.waitForText('pong');
    socket.ws.send('get_stats');
    const stats = await socket.waitFor((m) => m.type === 'stats');
    expect((stats.connection_stats as { total_admin_connections: number }).total_admin_connections).toBeGreaterThanOrEqual(1);
    socket.close();
  });

  it('answers invalid JSON, unknown commands and binary frames with an error and keeps the connection', async () => {
    const socket = await connected(userUrl(alice.token));
    socket.ws.send('{not json');
    expect(await socket.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_INVALID_JSON' });
    socket.ws.send('hello');
    expect(await socket.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_UNKNOWN_COMMAND' });
    socket.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await socket.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_BINARY_NOT_SUPPORTED' });
    socket.ws.send('ping');
    await socket.waitForText('pong');
    socket.close();
  });

  it('closes an oversized frame with 1009', async () => {
    const socket = await connected(userUrl(alice.token));
    socket.ws.send('x'.repeat(10_000));
    expect((await socket.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
  });

  it('closes a message flood with 4008 and keeps serving others', async () => {
    const socket = await connected(userUrl(alice.token));
    const other = await connected(userUrl(bob.token));
    for (let i = 0; i < 200; i++) socket.ws.send('ping');
    expect((await socket.closed).code).toBe(CloseCode.RATE_LIMITED);
    other.ws.send('ping');
    await other.waitForText('pong');
    other.close();
  });

  it('limits connections per user with 4009', async () => {
    const carol = await herald.user('carol');
    const open = await Promise.all([1, 2, 3].map(() => connected(userUrl(carol.token))));
    const fourth = await openSocket(userUrl(carol.token)).closed;
    expect(fourth.code).toBe(CloseCode.TOO_MANY_CONNECTIONS);
    open.forEach((s) => s.close());
  });
});

describe('who receives what', () => {
  it('delivers personal messages only to that user, on every device, and admin messages only to admins', async () => {
    const aliceA = await connected(userUrl(alice.token));
    const aliceB = await connected(userUrl(alice.token));
    const bobSocket = await connected(userUrl(bob.token));
    const adminSocket = await connected(adminUrl(admin.token));

    await herald.notifications.notifySystemMessage('for alice', 'info', alice.id);
    await herald.notifications.notifySystemMessage('for admins', 'warning', 'admin');
    await herald.notifications.notifySystemMessage('for all', 'success', 'all');

    for (const device of [aliceA, aliceB]) {
      expect(await device.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'for alice', stream: `user:${alice.id}` });
      expect(await device.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'for all' });
    }
    expect(await bobSocket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'for all' });
    expect(await adminSocket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'for admins', level: 'warning' });
    expect(await adminSocket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'for all' });
    await sleep(100);
    expect(bobSocket.of('system_message').map((m) => m.message)).toEqual(['for all']);
    expect(aliceA.of('system_message').map((m) => m.message)).toEqual(['for alice', 'for all']);
    expect(adminSocket.of('system_message').map((m) => m.message)).not.toContain('for alice');
    [aliceA, aliceB, bobSocket, adminSocket].forEach((s) => s.close());
  });

  it('sends transcode messages in the specification format', async () => {
    const adminSocket = await connected(adminUrl(admin.token));
    await herald.notifications.notifyTranscodeProgress(123, 'processing', 45, '已完成720p转码 (2/3)');
    await herald.notifications.notifyTranscodeComplete(123, '示例视频', 'av1', 1024000000);
    await herald.notifications.notifyTranscodeFailed(124, '示例视频', 'FFmpeg process exited with code 1');
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_progress')).toMatchObject({ video_id: 123, status: 'processing', progress: 45, message: '已完成720p转码 (2/3)' });
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_complete')).toMatchObject({ video_id: 123, title: '示例视频', format_type: 'av1', file_size: 1024000000 });
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_failed')).toMatchObject({ video_id: 124, error: 'FFmpeg process exited with code 1' });
    adminSocket.close();
  });

  it('shows a newly connected admin the progress of jobs in flight', async () => {
    await herald.notifications.notifyTranscodeProgress(200, 'processing', 30, 'working', { job_id: 'job-200' });
    await sleep(20);
    const adminSocket = await connected(adminUrl(admin.token));
    expect(adminSocket.of('transcode_progress')).toContainEqual(expect.objectContaining({ video_id: 200, progress: 30, snapshot: true }));
    adminSocket.close();
  });
});

describe('statistics and zombie cleanup', () => {
  it('counts connections and forgets closed and destroyed sockets', async () => {
    const zombieHerald = await startHerald({ WS_HEARTBEAT_INTERVAL_MS: '100' });
    try {
      const dave = await zombieHerald.user('dave');
      const stats = async () => (await fetch(`${zombieHerald.url}/api/v1/ws/stats`)).json();
      const a = await connected(`${zombieHerald.wsUrl}/api/v1/ws?token=${dave.token}`);
      const b = await connected(`${zombieHerald.wsUrl}/api/v1/ws?token=${dave.token}`);
      expect(await stats()).toEqual({ total_users: 1, total_user_connections: 2, total_admin_connections: 0, total_connections: 2, transports: { ws: 2, sse: 0 } });
      a.close();
      await a.closed;
      await sleep(50);
      expect(await stats()).toMatchObject({ total_user_connections: 1 });
      // A half-open peer: stop answering pings without closing the TCP connection.
      (b.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      await sleep(400);
      expect(await stats()).toEqual({ total_users: 0, total_user_connections: 0, total_admin_connections: 0, total_connections: 0, transports: { ws: 0, sse: 0 } });
      b.ws.terminate();
    } finally {
      await zombieHerald.stop();
    }
  });
});
