import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, sleep, startHerald, type TestHerald } from '@herald/testing/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(() => herald.stop());

describe('ConnectionManager operations of the specification', () => {
  it('sends personal, admin and broadcast messages without persisting them', async () => {
    const user = await herald.user('u1');
    const other = await herald.user('u2');
    const admin = await herald.user('a1', { admin: true });
    const u = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}`);
    const o = openSocket(`${herald.wsUrl}/api/v1/ws?token=${other.token}`);
    const a = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await Promise.all([u, o, a].map((s) => s.waitFor((m) => m.type === 'resumed')));
    expect(herald.manager.getConnectionCount()).toEqual({ total_users: 2, total_user_connections: 2, total_admin_connections: 1, total_connections: 3 });

    await herald.manager.sendPersonalMessage({ type: 'hello' }, user.id);
    await herald.manager.sendAdminMessage({ type: 'system_alert' });
    await herald.manager.broadcast({ type: 'announcement' });
    expect(await u.waitFor((m) => m.type === 'hello')).toEqual({ type: 'hello' });
    expect(await u.waitFor((m) => m.type === 'announcement')).toBeTruthy();
    expect(await a.waitFor((m) => m.type === 'system_alert')).toBeTruthy();
    expect(await o.waitFor((m) => m.type === 'announcement')).toBeTruthy();
    await sleep(50);
    expect(o.of('hello')).toHaveLength(0);
    expect(u.of('system_alert')).toHaveLength(0);
    expect((await herald.store.heads(['broadcast', 'admins'])).broadcast.head).toBe(0);
    [u, o, a].forEach((s) => s.close());
    await Promise.all([u, o, a].map((s) => s.closed));
    await sleep(20);
    expect(herald.manager.getConnectionCount().total_connections).toBe(0);
  });
});
