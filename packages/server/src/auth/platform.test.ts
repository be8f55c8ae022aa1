import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';
import { canonicalSubject, isAdminBy } from './claims.js';

const SHARED = 'test-secret-test-secret-test-secret-0123456789';
const SERVICE_KEY = 'service-key-service-key-0123';

interface Signer {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signer(kid: string, alg: Signer['alg']): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);

function signWith(s: Signer, claims: Record<string, unknown>, ttl = 3600): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: s.alg, kid: s.kid }).setIssuedAt().setExpirationTime(now() + ttl).sign(s.privateKey);
}

/** The specification's token: `{"sub": "<id>", "is_admin": …, "exp": …}` signed with the shared secret. */
function specToken(claims: Record<string, unknown>, secret = SHARED): Promise<string> {
  return new SignJWT({ exp: now() + 3600, ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

/** A JWKS endpoint on an ephemeral port whose answer the test changes at will. */
class JwksServer {
  server!: Server;
  keys: JWK[] = [];
  mode: 'ok' | 'garbage' | 'silent' | 'huge' | 'many' = 'ok';
  fetches = 0;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.fetches++;
      if (this.mode === 'silent') return; // never answers
      res.setHeader('content-type', 'application/json');
      if (this.mode === 'garbage') return void res.end('<html>not a key set');
      if (this.mode === 'huge') return void res.end(JSON.stringify({ keys: this.keys, pad: 'x'.repeat(200_000) }));
      if (this.mode === 'many') return void res.end(JSON.stringify({ keys: [...Array.from({ length: 300 }, (_, i) => ({ ...this.keys[1], kid: `k${i}` })), ...this.keys] }));
      res.end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let jwks: JwksServer;
let herald: TestHerald;
let rsa: Signer;
let ec: Signer;

beforeAll(async () => {
  jwks = new JwksServer();
  const url = await jwks.start();
  [rsa, ec] = await Promise.all([signer('rsa-1', 'RS256'), signer('ec-1', 'ES256')]);
  jwks.keys = [rsa.jwk, ec.jwk];
  herald = await startHerald({
    JWT_SECRET_SHARED: 'true',
    JWT_JWKS_URL: url,
    JWT_JWKS_COOLDOWN_MS: '0',
    JWT_JWKS_TIMEOUT_MS: '500',
    JWT_JWKS_CACHE_MAX_AGE_MS: '1000',
    JWT_JWKS_MAX_BYTES: '100000',
    JWT_JWKS_MAX_KEYS: '50',
    JWT_ADMIN_CLAIM: 'is_admin',
    HERALD_SERVICE_KEY: SERVICE_KEY,
  });
});
afterAll(async () => {
  await herald?.stop();
  await jwks?.stop();
});

const userUrl = (token: string, extra = '') => `${herald.wsUrl}/api/v1/ws?token=${encodeURIComponent(token)}${extra}`;
const adminUrl = (token: string) => `${herald.wsUrl}/api/v1/ws/admin?token=${encodeURIComponent(token)}`;

async function connected(url: string) {
  const socket = openSocket(url);
  const hello = await socket.waitFor((m) => m.type === 'connected' || m.type === 'error');
  await socket.waitFor((m) => m.type === 'resumed');
  return { socket, hello };
}

async function refusal(url: string) {
  const socket = openSocket(url);
  const closed = await socket.closed;
  expect(socket.of('connected')).toHaveLength(0);
  return closed;
}

function publish(target: unknown, message: string) {
  return fetch(`${herald.url}/api/v1/notifications`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SERVICE_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message, target }),
  });
}

describe('platform tokens from a JWKS', () => {
  it.each(['RS256', 'ES256'] as const)('connects a never-seen user with a %s token and delivers to their platform id', async (alg) => {
    const key = alg === 'RS256' ? rsa : ec;
    const id = `jwks-${alg}-f47ac10b-58cc-4372-a567-0e02b3c479d4`;
    const { socket, hello } = await connected(userUrl(await signWith(key, { sub: id, username: `name-${alg}` })));
    expect(hello).toMatchObject({ type: 'connected', user_id: id, message: `用户 name-${alg} 已连接` });
    expect((await publish(id, `hello ${alg}`)).status).toBe(202);
    expect(await socket.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: `hello ${alg}` });
    socket.ws.send('get_stats');
    const stats = await socket.waitFor((m) => m.type === 'stats');
    expect((stats.connection_stats as { total_users: number }).total_users).toBeGreaterThanOrEqual(1);
    socket.close();
  });

  it('follows key rotation without a restart: a new kid is fetched, a removed one is refused', async () => {
    const next = await signer('rsa-2', 'RS256');
    const early = await signWith(next, { sub: 'rotating' });
    expect(await refusal(userUrl(early))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'key not found' });
    jwks.keys = [next.jwk, ec.jwk];
    const { socket, hello } = await connected(userUrl(await signWith(next, { sub: 'rotating' })));
    expect(hello.user_id).toBe('rotating');
    socket.close();
    // rsa-1 is gone from the set; once the cache is older than its max age the old key is refused too.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await refusal(userUrl(await signWith(rsa, { sub: 'rotating' })))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'key not found' });
    jwks.keys = [rsa.jwk, ec.jwk, next.jwk];
  });

  it('refuses with "keys unavailable" when the JWKS answers garbage, nothing or too much, while shared-secret tokens keep working', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // let the cached set age out
    const stranger = await signer('unknown-kid', 'ES256');
    for (const mode of ['garbage', 'silent', 'huge'] as const) {
      jwks.mode = mode;
      const closed = await refusal(userUrl(await signWith(stranger, { sub: 'x' })));
      expect(closed.code, mode).toBe(CloseCode.UNAUTHORIZED);
      expect(closed.reason, mode).toBe('keys unavailable');
      const { socket } = await connected(userUrl(await specToken({ sub: '77' })));
      socket.close();
    }
    jwks.mode = 'ok';
  });

  it('keeps only the first JWT_JWKS_MAX_KEYS keys of a set with hundreds', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    jwks.mode = 'many';
    const closed = await refusal(userUrl(await signWith(ec, { sub: 'many' })));
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'key not found' });
    jwks.mode = 'ok';
    await new Promise((r) => setTimeout(r, 1100));
  });
});

describe('the specification shared-secret tokens', () => {
  it('accepts {"sub":"123","is_admin":true,"exp":…} on the admin endpoint and reaches the same user by 123 and "123"', async () => {
    const { socket, hello } = await connected(adminUrl(await specToken({ sub: '123', is_admin: true })));
    expect(hello).toMatchObject({ admin_id: '123' });
    expect((await publish(123, 'by number')).status).toBe(202);
    expect((await publish('123', 'by string')).status).toBe(202);
    expect(await socket.waitFor((m) => m.type === 'system_message' && m.message === 'by number')).toBeTruthy();
    expect(await socket.waitFor((m) => m.type === 'system_message' && m.message === 'by string')).toBeTruthy();
    socket.close();
  });

  it('refuses the admin endpoint to a platform token without the admin claim', async () => {
    expect(await refusal(adminUrl(await specToken({ sub: '124', is_admin: false })))).toEqual({ code: CloseCode.FORBIDDEN, reason: 'admin only' });
  });

  it.each([' 2', '2.0', '0x2', '02', '1e0', 'herald:1', ''])('refuses the non-canonical sub %j instead of mapping it', async (sub) => {
    expect(await refusal(userUrl(await specToken({ sub })))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token invalid' });
  });

  it('refuses expired, wrongly signed and alg-confused tokens by class', async () => {
    expect(await refusal(userUrl(await specToken({ sub: '5', exp: now() - 60 })))).toMatchObject({ reason: 'token expired' });
    expect(await refusal(userUrl(await specToken({ sub: '5' }, 'another-secret-another-secret-0123456')))).toMatchObject({ reason: 'token invalid' });
    // An HS256 token "signed" with the public RSA key as secret: HS is checked against the shared secret only.
    const pem = await exportSPKI((await generateKeyPair('RS256', { extractable: true })).publicKey);
    expect(await refusal(userUrl(await specToken({ sub: '5' }, pem)))).toMatchObject({ code: CloseCode.UNAUTHORIZED, reason: 'token invalid' });
  });

  it('keeps a platform subject "1" apart from Herald account 1', async () => {
    const local = await herald.user('localone');
    const platformToken = await specToken({ sub: String(local.id) });
    const { socket: platform, hello: platformHello } = await connected(userUrl(platformToken));
    const { socket: own, hello: ownHello } = await connected(userUrl(local.token));
    expect(platformHello.user_id).toBe(String(local.id));
    expect(ownHello.user_id).toBe(`herald:${local.id}`);
    expect(Object.keys(platformHello.streams as object)).not.toEqual(Object.keys(ownHello.streams as object));
    expect((await publish(`herald:${local.id}`, 'to the Herald account')).status).toBe(202);
    expect(await own.waitFor((m) => m.type === 'system_message')).toMatchObject({ message: 'to the Herald account' });
    await new Promise((r) => setTimeout(r, 200));
    expect(platform.of('system_message')).toHaveLength(0);
    platform.close();
    own.close();
  });
});

describe('issuer, audience and admin by role', () => {
  let strict: TestHerald;
  beforeAll(async () => {
    strict = await startHerald({ JWT_SECRET_SHARED: 'true', JWT_ISSUER: 'https://platform.example', JWT_AUDIENCE: 'herald', JWT_ADMIN_CLAIM: 'realm.roles=admin', JWT_NAME_CLAIM: 'preferred_username' });
  });
  afterAll(() => strict?.stop());
  const url = (path: string, token: string) => `${strict.wsUrl}${path}?token=${encodeURIComponent(token)}`;
  const good = { iss: 'https://platform.example', aud: 'herald' };

  it('refuses another issuer or audience by name', async () => {
    expect(await refusal(url('/api/v1/ws', await specToken({ ...good, sub: '9', iss: 'https://evil.example' })))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'issuer not accepted' });
    expect(await refusal(url('/api/v1/ws', await specToken({ ...good, sub: '9', aud: 'someone-else' })))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'audience not accepted' });
  });

  it('grants admin by a role inside an array claim, and not without it', async () => {
    const { socket, hello } = await connectedAt(url('/api/v1/ws/admin', await specToken({ ...good, sub: '10', realm: { roles: ['viewer', 'admin'] }, preferred_username: 'ada' })));
    expect(hello).toMatchObject({ admin_id: '10', message: '管理员 ada 已连接' });
    socket.close();
    expect(await refusal(url('/api/v1/ws/admin', await specToken({ ...good, sub: '10', realm: { roles: ['viewer'] } })))).toMatchObject({ code: CloseCode.FORBIDDEN });
  });

  async function connectedAt(target: string) {
    const socket = openSocket(target);
    const hello = await socket.waitFor((m) => m.type === 'connected');
    return { socket, hello };
  }
});

describe('a PEM public key (EdDSA)', () => {
  it('connects with a token signed by the private key and refuses other algorithms', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true });
    const node = await startHerald({ JWT_PUBLIC_KEY: await exportSPKI(publicKey) });
    try {
      const token = await new SignJWT({ sub: 'ed-user' }).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime('1h').sign(privateKey);
      const socket = openSocket(`${node.wsUrl}/api/v1/ws?token=${token}`);
      expect(await socket.waitFor((m) => m.type === 'connected')).toMatchObject({ user_id: 'ed-user' });
      socket.close();
      const me = await fetch(`${node.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ id: 'ed-user', username: 'ed-user', is_admin: false });
      const hs = await specToken({ sub: 'ed-user' });
      expect((await openSocket(`${node.wsUrl}/api/v1/ws?token=${hs}`).closed).code).toBe(CloseCode.UNAUTHORIZED);
    } finally {
      await node.stop();
    }
  });
});

describe('user ids in the API', () => {
  it('answers 404 for an unknown Herald account, 400 for an id that cannot be one', async () => {
    const post = (id: string) => fetch(`${herald.url}/api/v1/users/${encodeURIComponent(id)}/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${SERVICE_KEY}` } });
    expect((await post('herald:99999')).status).toBe(404);
    const bad = await post('2.0');
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toContain('is not a user id');
    expect((await post('never-seen-but-valid')).status).toBe(204);
  });
});

describe('claim rules', () => {
  it('canonical subjects', () => {
    expect(canonicalSubject('123')).toBe('123');
    expect(canonicalSubject(123)).toBe('123');
    expect(canonicalSubject('f47ac10b-58cc-4372-a567-0e02b3c479d4')).toBe('f47ac10b-58cc-4372-a567-0e02b3c479d4');
    expect(canonicalSubject('123e4567-e89b-12d3-a456-426614174000')).toBe('123e4567-e89b-12d3-a456-426614174000');
    for (const bad of [' 2', '2.0', '0x2', '02', '-2', '0', 2.5, 'a b', 'herald:3', 'x'.repeat(129)]) expect(canonicalSubject(bad), String(bad)).toBeUndefined();
  });

  it('admin claims: boolean, role in array, scope string, URL-named claim', () => {
    expect(isAdminBy({ is_admin: true }, 'is_admin')).toBe(true);
    expect(isAdminBy({ is_admin: 'true' }, 'is_admin')).toBe(false);
    expect(isAdminBy({ roles: ['a', 'admin'] }, 'roles=admin')).toBe(true);
    expect(isAdminBy({ scope: 'read admin' }, 'scope=admin')).toBe(true);
    expect(isAdminBy({ 'https://x.example/roles': ['admin'] }, 'https://x.example/roles=admin')).toBe(true);
    expect(isAdminBy({ realm_access: { roles: ['admin'] } }, 'realm_access.roles=admin')).toBe(true);
    expect(isAdminBy({ roles: ['administrator'] }, 'roles=admin')).toBe(false);
  });
});
