import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, startHerald, type TestHerald, type TestSocket } from '@herald/testing/herald';
import { TEST_REDIS_URL, freshPostgresSchema, postgresReachable, redisReachable, requireService } from '@herald/testing';

const [pgState, redisState] = await Promise.all([postgresReachable(), redisReachable()]);
const withRedis = requireService('PostgreSQL', pgState.ok, pgState.why) && requireService('Redis', redisState.ok, redisState.why);

interface Setup {
  name: string;
  env(): Promise<{ env: Record<string, string>; dispose(): Promise<void> }>;
}

const SETUPS: Setup[] = [
  { name: 'SQLite, memory broker', env: async () => ({ env: {}, dispose: async () => undefined }) },
  ...(withRedis
    ? [
        {
          name: 'PostgreSQL, Redis broker',
          env: async () => {
            const schema = await freshPostgresSchema();
            return { env: { DATABASE_URL: schema.url, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: `t${randomBytes(4).toString('hex')}:` }, dispose: () => schema.drop() };
          },
        },
      ]
    : []),
];

/** The type of each frame, in order (`pong` as text). */
const types = (socket: TestSocket) => socket.received.map((m) => (typeof m === 'string' ? m : String(m.type)));

/** Opens a socket that sends `commands` the moment it opens, before the server's first frame. */
function openEager(url: string, commands: string[]): TestSocket {
  const socket = openSocket(url);
  socket.ws.on('open', () => {
    for (const command of commands) socket.ws.send(command);
  });
  return socket;
}

describe.each(SETUPS)('protocol edges on $name', (setup) => {
  let herald: TestHerald;
  let dispose: () => Promise<void>;
  let user: Awaited<ReturnType<TestHerald['user']>>;
  let admin: Awaited<ReturnType<TestHerald['user']>>;

  beforeAll(async () => {
    const target = await setup.env();
    dispose = target.dispose;
    herald = await startHerald(target.env);
    user = await herald.user(`edge-${randomBytes(3).toString('hex')}`);
    admin = await herald.user(`edge-admin-${randomBytes(3).toString('hex')}`, { admin: true });
  });
  afterAll(async () => {
    await herald?.stop();
    await dispose?.();
  });

  it.each([
    ['malformed', () => 'garbage!!'],
    ['future', () => `user:${user.id}@999999,broadcast@999999`],
    ['foreign', () => 'user:999999@1'],
  ])('sends connected first, then the error, for a %s since on both endpoints', async (_kind, since) => {
    for (const [path, token] of [
      ['/api/v1/ws', user.token],
      ['/api/v1/ws/admin', admin.token],
    ] as const) {
      const socket = openSocket(`${herald.wsUrl}${path}?token=${token}&since=${encodeURIComponent(since())}`);
      await socket.waitFor((m) => m.type === 'resumed');
      expect(types(socket)[0], path).toBe('connected');
      expect(types(socket)).toContain('error');
      socket.close();
    }
  });

  it('answers commands sent before connected only after connected, on both endpoints', async () => {
    for (const [path, token] of [
      ['/api/v1/ws', user.token],
      ['/api/v1/ws/admin', admin.token],
    ] as const) {
      for (let round = 0; round < 5; round++) {
        const socket = openEager(`${herald.wsUrl}${path}?token=${token}`, ['ping', JSON.stringify({ type: 'get_stats' }), 'ping']);
        await socket.waitFor((m) => m.type === 'stats');
        await socket.waitForText('pong');
        expect(types(socket)[0], `${path} round ${round}: ${types(socket).join(' ')}`).toBe('connected');
        socket.close();
      }
    }
  });

  it('answers every accepted command of a burst before closing it with 4008 and a reason', async () => {
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    for (let i = 0; i < 21; i++) socket.ws.send(JSON.stringify({ type: 'get_stats' }));
    const closed = await socket.closed;
    expect(closed.code).toBe(CloseCode.RATE_LIMITED);
    expect(closed.reason).not.toBe('');
    expect(socket.of('stats')).toHaveLength(20);
  });

  it('closes a frame beyond WS_MAX_PAYLOAD_BYTES with 1009 and a reason', async () => {
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    await socket.waitFor((m) => m.type === 'resumed');
    socket.ws.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(10_000) }));
    const closed = await socket.closed;
    expect(closed.code).toBe(CloseCode.MESSAGE_TOO_BIG);
    expect(closed.reason).toMatch(/4096/);
  });
});

describe('one leeway for connect and expiry', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald();
  });
  afterAll(async () => {
    await herald?.stop();
  });

  it.each([2, 3, 4, 7])('refuses a token that expired %i s ago with 4001 and no connected', async (ago) => {
    const user = await herald.user(`expired-${ago}`);
    const token = await herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, -ago);
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${token}`);
    const closed = await socket.closed;
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token expired' });
    expect(socket.of('connected')).toHaveLength(0);
  });

  it('keeps a token that is still valid open until it expires, then closes it with 4001', async () => {
    const user = await herald.user('expiring');
    const token = await herald.tokens.signAccess({ id: user.id, username: user.username, is_admin: false }, 2);
    const exp = Math.floor(Date.now() / 1000) + 2;
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${token}`);
    await socket.waitFor((m) => m.type === 'connected');
    const closed = await socket.closed;
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000 - 50);
    expect(Date.now()).toBeLessThan(exp * 1000 + 1500);
  });
});
