import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, sleep, startHerald, type TestHerald, type TestSocket } from '@herald/testing/herald';
import { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '@herald/testing';

const SHARED = 'test-secret-test-secret-test-secret-0123456789';
const SERVICE_KEY = 'service-key-service-key-0123';
const now = () => Math.floor(Date.now() / 1000);

function specToken(claims: Record<string, unknown>, ttl = 3600): Promise<string> {
  return new SignJWT({ exp: now() + ttl, iat: now(), ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(SHARED));
}

async function connect(node: TestHerald, token: string, path = '/api/v1/ws', extra = ''): Promise<TestSocket> {
  const socket = openSocket(`${node.wsUrl}${path}?token=${encodeURIComponent(token)}${extra}`);
  await socket.waitFor((m) => m.type === 'resumed');
  return socket;
}

function api(node: TestHerald, method: string, path: string, token: string, body?: unknown) {
  return fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

describe('a never-seen platform user', () => {
  it('has an inbox before the first connection and resumes across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-identity-'));
    const env = { JWT_SECRET_SHARED: 'true', HERALD_SERVICE_KEY: SERVICE_KEY };
    let node = await startHerald(env, { dataDir });
    try {
      const sent = await api(node, 'POST', '/api/v1/notifications', SERVICE_KEY, { message: 'waiting for you', target: 'new-user-42' });
      expect(sent.status).toBe(202);
      const token = await specToken({ sub: 'new-user-42' });
      const first = await connect(node, token);
      const hello = first.of('connected')[0];
      expect(hello).toMatchObject({ user_id: 'new-user-42', unread_count: 1 });
      const inbox = await (await api(node, 'GET', '/api/v1/notifications', token)).json();
      expect(inbox.items).toHaveLength(1);
      first.close();
      const positions = hello.streams as Record<string, number>;
      await node.stop();
      node = await startHerald(env, { dataDir });
      await api(node, 'POST', '/api/v1/notifications', SERVICE_KEY, { message: 'while away', target: 'new-user-42' });
      const since = Object.entries(positions).map(([s, o]) => `${s}@${o}`).join(',');
      const again = await connect(node, token, '/api/v1/ws', `&since=${encodeURIComponent(since)}`);
      expect(again.of('system_message').map((m) => m.message)).toEqual(['while away']);
      again.close();
    } finally {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('in-band refresh', () => {
  let node: TestHerald;
  beforeAll(async () => {
    node = await startHerald({ JWT_SECRET_SHARED: 'true', HERALD_SERVICE_KEY: SERVICE_KEY });
  });
  afterAll(() => node?.stop());

  it('hints before expiry, moves the expiry on auth, and loses or repeats nothing while messages flow', async () => {
    const socket = await connect(node, await specToken({ sub: 'refresher' }, 6));
    const hint = await socket.waitFor((m) => m.type === 'token_expiring', 6000);
    expect(hint.expires_in as number).toBeLessThanOrEqual(4);
    let sending = true;
    let sent = 0;
    const flow = (async () => {
      while (sending) {
        await node.notifications.notifySystemMessage(`m${++sent}`, 'info', (await node.auth.identities.resolve('refresher'))!.id);
        await sleep(20);
      }
    })();
    socket.ws.send(JSON.stringify({ type: 'auth', token: await specToken({ sub: 'refresher' }, 3600) }));
    const refreshed = await socket.waitFor((m) => m.type === 'token_refreshed');
    expect(refreshed.expires_in as number).toBeGreaterThan(3500);
    await sleep(6000); // past the first token's expiry: still open
    sending = false;
    await flow;
    await socket.waitFor((m) => m.type === 'system_message' && m.message === `m${sent}`);
    const got = socket.of('system_message').map((m) => m.message);
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => `m${i + 1}`));
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
    socket.close();
  }, 20_000);

  it('refuses a token of another user or with more rights, and applies a demotion at once', async () => {
    const socket = await connect(node, await specToken({ sub: 'p-admin', is_admin: true }));
    socket.ws.send(JSON.stringify({ type: 'auth', token: await specToken({ sub: 'someone-else' }) }));
    expect(await socket.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_FORBIDDEN' });
    socket.ws.send(JSON.stringify({ type: 'auth', token: 'garbage' }));
    expect(await socket.waitFor((m) => m.type === 'error' && m.code === 'ERR_UNAUTHORIZED')).toMatchObject({ message: 'token malformed' });
    const admin = await connect(node, await specToken({ sub: 'p-admin', is_admin: true }), '/api/v1/ws/admin');
    admin.ws.send(JSON.stringify({ type: 'auth', token: await specToken({ sub: 'p-admin', is_admin: false }) }));
    expect(await admin.closed).toEqual({ code: CloseCode.FORBIDDEN, reason: 'admin rights revoked' });
    socket.ws.send(JSON.stringify({ type: 'auth', token: await specToken({ sub: 'p-admin', is_admin: false }) }));
    await socket.waitFor((m) => m.type === 'token_refreshed');
    socket.ws.send(JSON.stringify({ type: 'auth', token: await specToken({ sub: 'p-admin', is_admin: true }) }));
    expect(await socket.waitFor((m) => m.type === 'error' && (m.message as string).includes('more rights'))).toBeTruthy();
    socket.close();
  });
});

describe('sessions of Herald accounts', () => {
  let node: TestHerald;
  beforeAll(async () => {
    node = await startHerald({});
  });
  afterAll(() => node?.stop());

  async function login(username: string, password: string) {
    const res = await fetch(`${node.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    return (await res.json()) as { access_token: string; refresh_token: string };
  }
  const refresh = (refresh_token: string) =>
    fetch(`${node.url}/api/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token }) });

  it('logout revokes the refresh token family', async () => {
    const user = await node.user('leaver');
    const pair = await login('leaver', user.password);
    const rotated = (await (await refresh(pair.refresh_token)).json()) as { refresh_token: string };
    const out = await fetch(`${node.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: rotated.refresh_token }) });
    expect(out.status).toBe(204);
    expect((await refresh(rotated.refresh_token)).status).toBe(401);
    const bad = await fetch(`${node.url}/api/v1/auth/logout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: 'nope' }) });
    expect(bad.status).toBe(401);
  });

  it('a password change revokes every refresh token and closes the sockets with 4001', async () => {
    const admin = await node.user('pw-admin', { admin: true });
    const user = await node.user('changer');
    const pair = await login('changer', user.password);
    const socket = await connect(node, pair.access_token);
    await sleep(1100); // tokens issued in the same second as the change are refused too
    const res = await api(node, 'PATCH', `/api/v1/users/${user.id}`, admin.token, { password: 'a-brand-new-password' });
    expect(res.status).toBe(200);
    expect((await socket.closed).code).toBe(CloseCode.UNAUTHORIZED);
    expect((await refresh(pair.refresh_token)).status).toBe(401);
    expect((await openSocket(`${node.wsUrl}/api/v1/ws?token=${pair.access_token}`).closed).reason).toBe('token revoked');
    await sleep(1100);
    const again = await login('changer', 'a-brand-new-password');
    (await connect(node, again.access_token)).close();
  });

  it('a demoted admin loses admin scope on every open socket, the user endpoint included', async () => {
    const root = await node.user('root-demoter', { admin: true });
    const carol = await node.user('carol-admin', { admin: true });
    const userSocket = await connect(node, carol.token);
    const adminSocket = await connect(node, carol.token, '/api/v1/ws/admin');
    await node.notifications.notifySystemMessage('for admins', 'info', 'admin');
    const res = await api(node, 'PATCH', `/api/v1/users/${carol.id}`, root.token, { is_admin: false });
    expect(res.status).toBe(200);
    expect(await adminSocket.closed).toEqual({ code: CloseCode.FORBIDDEN, reason: 'admin rights revoked' });
    userSocket.ws.send(JSON.stringify({ type: 'mark_all_read' }));
    const read = await userSocket.waitFor((m) => m.type === 'notifications_read');
    expect(Object.keys(read.unread_positions as object)).not.toContain('admins');
    const inbox = await node.store.inbox.unread(carol.id, ['admins']);
    expect(inbox.count).toBe(1); // the admins' notification was not marked read by the demoted user
    userSocket.close();
  });
});

const [pgState, redisState] = await Promise.all([postgresReachable(), redisReachable()]);
const ready = requireService('PostgreSQL', pgState.ok, pgState.why) && requireService('Redis', redisState.ok, redisState.why);

describe.runIf(ready)('disconnect API across two nodes (Redis, PostgreSQL)', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresSchema>>;
  let a: TestHerald;
  let b: TestHerald;
  beforeAll(async () => {
    schema = await freshPostgresSchema();
    const env = { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:`, JWT_SECRET_SHARED: 'true', HERALD_SERVICE_KEY: SERVICE_KEY };
    a = await startHerald({ ...env, NODE_ID: 'node-a' });
    b = await startHerald({ ...env, NODE_ID: 'node-b' });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await schema?.drop();
  });

  it('closes the user sockets on every node with 4001 "revoked" and refuses older tokens until a newer one', async () => {
    const token = await specToken({ sub: 'kicked' });
    const onA = await connect(a, token);
    const onB = await connect(b, token);
    const other = await connect(b, await specToken({ sub: 'stays' }));
    const res = await api(a, 'POST', '/api/v1/users/kicked/disconnect', SERVICE_KEY);
    expect(res.status).toBe(204);
    expect(await onA.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'revoked' });
    expect(await onB.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'revoked' });
    expect((await openSocket(`${b.wsUrl}/api/v1/ws?token=${token}`).closed).reason).toBe('token revoked');
    await sleep(1100);
    (await connect(b, await specToken({ sub: 'kicked' }))).close();
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    other.close();
    expect((await api(a, 'POST', '/api/v1/users/kicked/disconnect', 'not-the-key')).status).toBe(401);
  });
});
