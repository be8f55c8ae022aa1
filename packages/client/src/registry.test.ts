import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConnectionRegistry, type WebSocketConstructor } from './index.js';
import { TestServer, waitFor } from '@herald/testing/fake-server';

const WS = WebSocket as unknown as WebSocketConstructor;
let server: TestServer;
let registry: ConnectionRegistry;

beforeEach(async () => {
  server = await TestServer.start();
  registry = new ConnectionRegistry();
});

afterEach(async () => {
  registry.reset();
  await server.close();
});

const options = (extra: object = {}) => ({ url: server.url, getToken: () => 'good', WebSocket: WS, onlineSource: null, logger: null, ...extra });
const open = () => server.connections.filter((c) => c.socket.readyState === c.socket.OPEN);

describe('ConnectionRegistry', () => {
  it('gives every caller with the same server, endpoint and identity one client and one socket, closed by the last release', async () => {
    const leases = [registry.acquire(options()), registry.acquire(options()), registry.acquire(options())];
    expect(new Set(leases.map((l) => l.client)).size).toBe(1);
    expect(new Set(leases.map((l) => l.feed)).size).toBe(1);
    for (const lease of leases) lease.client.connect();
    await waitFor(() => leases[0]!.client.getState() === 'open');
    expect(server.connections).toHaveLength(1);
    expect(registry.users(leases[0]!.key)).toBe(3);

    leases[0]!.release();
    leases[0]!.release(); // a second release of the same lease is a no-op
    leases[1]!.release();
    expect(leases[2]!.client.getState()).toBe('open');
    leases[2]!.release();
    expect(leases[2]!.client.getState()).toBe('closed');
    expect(registry.size).toBe(0);
    await waitFor(() => open().length === 0);
  });

  it('keeps different endpoints and identities apart', async () => {
    const user = registry.acquire(options());
    const admin = registry.acquire(options({ isAdmin: true, getToken: () => 'admin' }));
    const other = registry.acquire(options({ identity: 'someone-else' }));
    expect(new Set([user.client, admin.client, other.client]).size).toBe(3);
    for (const lease of [user, admin, other]) lease.client.connect();
    await waitFor(() => server.connections.length === 3);
    expect(server.connections.map((c) => c.path).sort()).toEqual(['/api/v1/ws', '/api/v1/ws', '/api/v1/ws/admin']);
  });

  it('reset() closes every connection; leases released afterwards do nothing', async () => {
    const lease = registry.acquire(options());
    lease.client.connect();
    await waitFor(() => lease.client.getState() === 'open');
    registry.reset();
    expect(lease.client.getState()).toBe('closed');
    lease.release();
    const again = registry.acquire(options());
    expect(again.client).not.toBe(lease.client);
  });
});
