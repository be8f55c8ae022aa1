import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { openSocket, startHerald, until, type TestHerald } from '@herald/testing/herald';

let herald: TestHerald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

const PAD = 'x'.repeat(2_000);
const BACKLOG = 5_000;

describe('resuming from a backlog', () => {
  it('waits for the socket to drain: a healthy client gets 5,000 × 2 kB messages on one connection, in order, once', async () => {
    herald = await startHerald();
    const user = await herald.user('resumer');
    for (let i = 1; i <= BACKLOG; i++) await herald.notifications.publish(user.id, 'announcement', { i, pad: PAD });
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}&since=user:${user.id}@0`);
    const resumed = socket.waitFor((m) => m.type === 'resumed', 50_000);
    const outcome = await Promise.race([resumed.then(() => 'resumed'), socket.closed.then((c) => `closed ${c.code} ${c.reason}`)]);
    const offsets = socket.of('announcement').map((m) => Number(m.offset));
    expect(outcome, `after ${offsets.length} messages`).toBe('resumed');
    expect(offsets).toEqual(Array.from({ length: BACKLOG }, (_, i) => i + 1));
    expect((await resumed).replayed).toBe(BACKLOG);
    socket.close();
  }, 90_000);

  it('still cuts off a client that stops reading during the replay (no pong: the heartbeat ends it)', async () => {
    herald = await startHerald({ WS_SEND_BUFFER_BYTES: '65536', WS_HEARTBEAT_INTERVAL_MS: '300' });
    const user = await herald.user('stalled');
    for (let i = 1; i <= 1_000; i++) await herald.notifications.publish(user.id, 'announcement', { i, pad: PAD });
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${user.token}&since=user:${user.id}@0`);
    await socket.waitFor((m) => m.type === 'connected');
    (socket.ws as unknown as { _socket: Socket })._socket.pause();
    const node = herald;
    await until(() => ![...node.manager.all()].some((conn) => conn.userId === user.id), 10_000, 'the server dropping the stalled client');
    expect(socket.of('resumed')).toHaveLength(0);
  }, 60_000);
});
