import { generateKeyPair, exportSPKI, SignJWT } from 'jose';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, startHerald, until, type TestHerald } from '@herald/testing/herald';

/** Every close code the README documents; anything else from the server is a defect. */
const DOCUMENTED = new Set<number>([1000, 1001, 1002, 1007, 1008, 1009, 1011, 4001, 4003, 4008, 4009, 4010, 4029]);
const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret-0123456789');

let herald: TestHerald;
let alice: Awaited<ReturnType<TestHerald['user']>>;
let admin: Awaited<ReturnType<TestHerald['user']>>;

beforeAll(async () => {
  herald = await startHerald({ WS_MAX_MESSAGES_PER_SECOND: '1000', WS_MAX_CONNECTIONS_PER_USER: '1000' });
  alice = await herald.user('alice');
  admin = await herald.user('admin', { admin: true });
});
afterAll(() => herald.stop());

const userUrl = (token: string, extra = '') => `${herald.wsUrl}/api/v1/ws?token=${encodeURIComponent(token)}${extra}`;

/** The server answers a new client, and no state of the closed ones is left behind. */
async function stillServes(): Promise<void> {
  const socket = openSocket(userUrl(alice.token));
  await socket.waitFor((m) => m.type === 'resumed');
  socket.ws.send('ping');
  await socket.waitForText('pong');
  socket.close();
  await socket.closed;
  await until(() => herald.manager.getConnectionCount().total_connections === 0, 5000, 'every connection released');
}

describe('random WebSocket traffic', () => {
  it('answers any text frame with pong, stats, an error message or a documented close', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 3 }), fc.constantFrom('ping', 'get_stats', '{"type":"mark_read","ids":[1]}', '{"type":"mark_read","ids":"x"}')), { minLength: 1, maxLength: 8 }), async (frames) => {
        const socket = openSocket(userUrl(alice.token));
        await socket.waitFor((m) => m.type === 'resumed');
        for (const frame of frames) socket.ws.send(frame);
        socket.ws.send('ping');
        await socket.waitForText('pong');
        for (const m of socket.received) {
          if (typeof m === 'string') expect(m).toBe('pong');
          else expect(['connected', 'resumed', 'error', 'stats', 'notifications_read', 'transcode_progress']).toContain(m.type);
        }
        socket.close();
      }),
      { numRuns: 40 },
    );
    await stillServes();
  });

  it('closes invalid UTF-8 with 1007, binary and fragmented frames are handled, and the server keeps serving', async () => {
    const broken = openSocket(userUrl(alice.token));
    await broken.waitFor((m) => m.type === 'resumed');
    // A text frame with invalid UTF-8, written raw: FIN + opcode 1, masked, 2 bytes.
    const raw = (broken.ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]));
    expect((await broken.closed).code).toBe(1007);

    const fragmented = openSocket(userUrl(alice.token));
    await fragmented.waitFor((m) => m.type === 'resumed');
    fragmented.ws.send('pi', { fin: false });
    fragmented.ws.send('ng', { fin: true });
    await fragmented.waitForText('pong');
    fragmented.ws.send(Buffer.alloc(100, 7), { binary: true });
    expect(await fragmented.waitFor((m) => m.type === 'error')).toMatchObject({ code: 'ERR_BINARY_NOT_SUPPORTED' });
    // Many small fragments adding up beyond the frame limit are refused like one big frame.
    for (let i = 0; i < 100; i++) fragmented.ws.send('x'.repeat(100), { fin: false });
    fragmented.ws.send('x', { fin: true });
    expect((await fragmented.closed).code).toBe(CloseCode.MESSAGE_TOO_BIG);
    await stillServes();
  });

  it('never crashes on random since values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 600 }), fc.array(fc.tuple(fc.constantFrom('user:1', 'user:2', 'admins', 'broadcast', 'x', ''), fc.oneof(fc.nat(), fc.integer(), fc.double())), { maxLength: 5 }).map((pairs) => pairs.map(([s, o]) => `${s}@${o}`).join(','))), async (since) => {
        const socket = openSocket(userUrl(alice.token, `&since=${encodeURIComponent(since)}`));
        const first = await Promise.race([socket.waitFor((m) => m.type === 'resumed'), socket.closed]);
        expect(first).toMatchObject({ type: 'resumed' });
        for (const m of socket.of('error')) expect(m.code).toBe('ERR_INVALID_SINCE');
        socket.close();
      }),
      { numRuns: 60 },
    );
    await stillServes();
  });

  it('refuses floods of connections from one address with 4009 and serves others', async () => {
    const limited = await startHerald({ WS_MAX_CONNECTIONS_PER_IP: '20', WS_MAX_CONNECTIONS_PER_USER: '1000' });
    try {
      const user = await limited.user('flooder');
      const sockets = Array.from({ length: 40 }, () => openSocket(`${limited.wsUrl}/api/v1/ws?token=${user.token}`));
      const outcomes = await Promise.all(sockets.map((s) => Promise.race([s.waitFor((m) => m.type === 'resumed').then(() => 'open'), s.closed.then((c) => c.code)])));
      expect(outcomes.filter((o) => o === 'open').length).toBeLessThanOrEqual(20);
      expect(outcomes.filter((o) => o === CloseCode.TOO_MANY_CONNECTIONS).length).toBeGreaterThanOrEqual(20);
      sockets.forEach((s) => s.ws.terminate());
    } finally {
      await limited.stop();
    }
  });
});

describe('JWT attacks', () => {
  it('refuses RS256 tokens, HS256 tokens keyed with a public key, tampered and oversized tokens', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const rs = await new SignJWT({ typ: 'access', adm: true }).setProtectedHeader({ alg: 'RS256' }).setSubject(String(admin.id)).setExpirationTime('1h').sign(privateKey);
    const confused = await new SignJWT({ typ: 'access', adm: true })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(admin.id))
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(await exportSPKI(publicKey)));
    const [header, payload, signature] = alice.token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, adm: true, sub: String(admin.id) })).toString('base64url'), signature].join('.');
    const oversized = await new SignJWT({ typ: 'access', pad: 'x'.repeat(5000) }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(alice.id)).setExpirationTime('1h').sign(SECRET);
    for (const token of [rs, confused, tampered, oversized]) {
      for (const path of ['/api/v1/ws', '/api/v1/ws/admin']) {
        const closed = await openSocket(`${herald.wsUrl}${path}?token=${token}`).closed;
        expect(closed.code).toBe(CloseCode.UNAUTHORIZED);
      }
      const res = await fetch(`${herald.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
    }
  });

  it('does not let a refresh token stand in for an access token', async () => {
    const login = await (await fetch(`${herald.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'alice', password: alice.password }) })).json();
    const closed = await openSocket(userUrl(login.refresh_token)).closed;
    expect(closed.code).toBe(CloseCode.UNAUTHORIZED);
  });
});

describe('cross-site WebSocket hijacking', () => {
  it('ignores cookies: a browser cookie never authenticates a socket', async () => {
    const closed = await openSocket(`${herald.wsUrl}/api/v1/ws`, { headers: { Cookie: `token=${alice.token}; access_token=${alice.token}` } }).closed;
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token missing' });
  });

  it('refuses a foreign Origin even with a valid token in the URL or the subprotocol', async () => {
    const strict = await startHerald({ BACKEND_CORS_ORIGINS: 'https://admin.videosite.example' });
    try {
      const victim = await strict.user('victim');
      const viaUrl = await openSocket(`${strict.wsUrl}/api/v1/ws?token=${victim.token}`, { headers: { Origin: 'https://evil.example' } }).closed;
      const viaProtocol = await openSocket(`${strict.wsUrl}/api/v1/ws`, { protocols: ['bearer', victim.token], headers: { Origin: 'https://evil.example' } }).closed;
      expect([viaUrl.code, viaProtocol.code]).toEqual([CloseCode.FORBIDDEN, CloseCode.FORBIDDEN]);
    } finally {
      await strict.stop();
    }
  });
});

describe('random HTTP input', () => {
  const routes: Array<[string, string]> = [
    ['POST', '/api/v1/auth/login'],
    ['POST', '/api/v1/auth/refresh'],
    ['POST', '/api/v1/users'],
    ['PATCH', '/api/v1/users/1'],
    ['POST', '/api/v1/notifications'],
    ['GET', '/api/v1/notifications'],
    ['POST', '/api/v1/notifications/1/read'],
    ['GET', '/api/v1/ws/stats'],
  ];

  it('answers every route with a JSON 4xx or success, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.oneof(fc.json({ maxDepth: 3 }), fc.string({ maxLength: 200 })),
        fc.dictionary(fc.constantFrom('limit', 'cursor', 'unread', 'type', 'by_node', 'token'), fc.string({ maxLength: 30 }), { maxKeys: 3 }),
        fc.boolean(),
        async ([method, path], body, query, asAdmin) => {
          const qs = new URLSearchParams(query).toString();
          const res = await fetch(`${herald.url}${path}${qs ? `?${qs}` : ''}`, {
            method,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${asAdmin ? admin.token : alice.token}` },
            body: method === 'GET' ? undefined : body,
          });
          expect(res.status).toBeLessThan(500);
          const json = await res.json();
          if (res.status >= 400) expect(json).toMatchObject({ error: expect.stringMatching(/^ERR_/), message: expect.any(String) });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('documented close codes', () => {
  it('cover every code in the protocol (4011 is sent by clients only)', () => {
    for (const code of Object.values(CloseCode)) expect(DOCUMENTED.has(code) || code === CloseCode.HEARTBEAT_TIMEOUT).toBe(true);
  });
});
