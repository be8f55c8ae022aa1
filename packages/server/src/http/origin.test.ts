import { CloseCode } from '@herald/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

/** A node with the default BACKEND_CORS_ORIGINS (ports 8000/5173/3001 only), its warn lines captured. */
async function node(env: Record<string, string> = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const herald = await startHerald({ LOG_LEVEL: 'warn', ...env }, { logStream: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
  const user = await herald.user('ann', { admin: true });
  const refusals = () => lines.filter((l) => l.variable === 'BACKEND_CORS_ORIGINS');
  return { herald, user, refusals };
}

describe('the Origin rule', () => {
  let herald: TestHerald | undefined;
  afterEach(async () => {
    await herald?.stop();
    herald = undefined;
  });

  it("lets the console served on any port connect from the server's own origin", async () => {
    const n = await node();
    herald = n.herald;
    const own = herald.url; // http://127.0.0.1:<ephemeral port>, in no list
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${n.user.token}`, { headers: { Origin: own } });
    await socket.waitFor((m) => m.type === 'connected');
    socket.close();

    const preflight = await fetch(`${herald.url}/api/v1/auth/login`, { method: 'OPTIONS', headers: { origin: own, 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBe(own);
    expect(n.refusals()).toEqual([]);
  });

  it('refuses another origin with 4003, and logs it once a minute at warn naming the origin and the variable', async () => {
    const n = await node();
    herald = n.herald;
    for (let i = 0; i < 3; i++) {
      const closed = await openSocket(`${herald.wsUrl}/api/v1/ws?token=${n.user.token}`, { headers: { Origin: 'http://evil.example' } }).closed;
      expect(closed).toEqual({ code: CloseCode.FORBIDDEN, reason: 'origin not allowed' });
    }
    const preflight = await fetch(`${herald.url}/api/v1/auth/login`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const warned = n.refusals();
    // One line from the WebSocket gateway, one from CORS: not one per attempt.
    expect(warned.length).toBeLessThanOrEqual(2);
    expect(warned[0]).toMatchObject({ level: 40, origin: 'http://evil.example' });
    expect(String(warned[0]!.msg)).toContain('BACKEND_CORS_ORIGINS');
  });

  it('believes X-Forwarded-Host and -Proto only behind a trusted proxy', async () => {
    const forwarded = { Origin: 'https://admin.example', 'X-Forwarded-Host': 'admin.example', 'X-Forwarded-Proto': 'https' };
    let n = await node();
    herald = n.herald;
    const untrusted = await openSocket(`${herald.wsUrl}/api/v1/ws?token=${n.user.token}`, { headers: forwarded }).closed;
    expect(untrusted.code).toBe(CloseCode.FORBIDDEN);
    await herald.stop();

    n = await node({ TRUST_PROXY: 'true' });
    herald = n.herald;
    const trusted = openSocket(`${herald.wsUrl}/api/v1/ws?token=${n.user.token}`, { headers: forwarded });
    await trusted.waitFor((m) => m.type === 'connected');
    trusted.close();
  });
});
