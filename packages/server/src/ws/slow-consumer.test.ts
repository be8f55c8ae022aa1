import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { HttpPublisher } from '@herald/transcode';
import { openSocket, sleep, startHerald, until, type TestHerald, type TestSocket } from '@herald/testing/herald';

let herald: TestHerald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

const rawSocket = (s: TestSocket) => (s.ws as unknown as { _socket: Socket })._socket;
// Few large notifications (each one is a store write): 30 MB in 3,000 messages.
const PAD = 'x'.repeat(10_000);
const FLOOD = 3_000;

/** Broadcasts `count` 10 KB notifications in batches, leaving readers time to read. */
async function flood(node: TestHerald, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await node.notifications.publish('all', 'announcement', { i, pad: PAD });
    if (i % 20 === 19) await sleep(2);
  }
}

describe('a client that stops reading', () => {
  it('is closed with 4010 once its send buffer overflows, while the others are served', async () => {
    herald = await startHerald({ WS_SEND_BUFFER_BYTES: '262144' });
    const slowUser = await herald.user('slow');
    const fastUser = await herald.user('fast');
    const slow = openSocket(`${herald.wsUrl}/api/v1/ws?token=${slowUser.token}`);
    const fast = openSocket(`${herald.wsUrl}/api/v1/ws?token=${fastUser.token}`);
    await Promise.all([slow, fast].map((s) => s.waitFor((m) => m.type === 'resumed')));
    rawSocket(slow).pause();
    const node = herald;
    const flooding = flood(node, FLOOD);
    // Read again once the server gave up on the client (before its 5 s forced termination), so
    // the client sees the close frame behind what the server had sent.
    await until(() => [...node.manager.all()].some((conn) => conn.userId === slowUser.id && conn.state === 'closing'), 50_000, 'the server closing the slow client');
    rawSocket(slow).resume();
    await flooding;
    expect((await slow.closed).code).toBe(CloseCode.SLOW_CONSUMER);
    const metrics = await (await fetch(`${herald.url}/metrics`)).text();
    expect(metrics).toMatch(/herald_ws_closes_total\{code="4010"\} 1/);
    await until(() => fast.of('announcement').length === FLOOD, 20_000, 'every announcement at the fast client');
    fast.close();
  }, 60_000);

  it('gets the latest progress of each job instead of a backlog of stale ticks', async () => {
    // Progress is coalesced once a quarter of the send buffer (here 10 MB) is waiting.
    herald = await startHerald({ WS_SEND_BUFFER_BYTES: String(40 * 1024 * 1024) });
    const admin = await herald.user('admin', { admin: true });
    const slow = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await slow.waitFor((m) => m.type === 'resumed');
    rawSocket(slow).pause();
    await flood(herald, FLOOD); // fills the kernel's buffers and then the server's
    for (let tick = 1; tick <= 100; tick++) {
      await herald.notifications.notifyTranscodeProgress(1, 'processing', tick, `tick ${tick}`, { job_id: 'job-1' });
      await herald.notifications.notifyTranscodeProgress(2, 'processing', tick, `tick ${tick}`, { job_id: 'job-2' });
    }
    await sleep(100);
    rawSocket(slow).resume();
    await until(() => slow.of('transcode_progress').filter((m) => m.progress === 100).length === 2, 20_000, 'the latest tick of both jobs');
    await sleep(200);
    const ticks = slow.of('transcode_progress');
    expect(ticks.length).toBeLessThan(20);
    expect(ticks.filter((m) => m.job_id === 'job-1').map((m) => m.progress)).toEqual(expect.arrayContaining([100]));
    expect(slow.of('announcement')).toHaveLength(FLOOD);
    slow.close();
  }, 60_000);

  it("gets an external transcoder's progress over HTTP, and ephemeral custom events, conflated to the latest", async () => {
    const serviceKey = 'slow-consumer-service-key-0123456789';
    herald = await startHerald({ WS_SEND_BUFFER_BYTES: String(40 * 1024 * 1024), HERALD_SERVICE_KEY: serviceKey });
    const admin = await herald.user('admin', { admin: true });
    const slow = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    await slow.waitFor((m) => m.type === 'resumed');
    rawSocket(slow).pause();
    await flood(herald, FLOOD);
    // What `herald worker` (or any outside transcoder) does: POST /api/v1/events with the service key.
    const publisher = new HttpPublisher({ url: herald.url, serviceKey });
    for (let tick = 1; tick <= 60; tick++) {
      await publisher.publish({ type: 'transcode_progress', job_id: 'ext-1', video_id: 77, status: 'processing', progress: tick, message: `tick ${tick}` });
      const res = await fetch(`${herald.url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${serviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'cursor.moved', target: 'admin', data: { x: tick }, persist: false }),
      });
      expect(res.status).toBe(202);
    }
    await sleep(100);
    rawSocket(slow).resume();
    await until(() => slow.of('transcode_progress').some((m) => m.progress === 60) && slow.of('cursor.moved').some((m) => (m.data as { x: number }).x === 60), 20_000, 'the latest tick and cursor');
    await sleep(200);
    expect(slow.of('transcode_progress').filter((m) => m.job_id === 'ext-1').length).toBeLessThan(10);
    expect(slow.of('cursor.moved').length).toBeLessThan(10);
    expect(slow.of('announcement')).toHaveLength(FLOOD);
    slow.close();
  }, 90_000);
});
