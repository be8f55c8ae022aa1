import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '@herald/protocol';
import { sleep, startHerald, until, type TestHerald } from '@herald/testing/herald';
import { openSse } from '@herald/testing/sse';

let herald: TestHerald | undefined;
afterEach(async () => {
  await herald?.stop();
  herald = undefined;
});

const PAD = 'x'.repeat(10_000);
const FLOOD = 2_000;

async function flood(node: TestHerald, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await node.notifications.publish('all', 'announcement', { i, pad: PAD });
    if (i % 20 === 19) await sleep(2);
  }
}

describe('an SSE reader that stops reading', () => {
  it('is cut off with event: close 4010 like a WebSocket, and loses nothing when it resumes from Last-Event-ID', async () => {
    herald = await startHerald({ WS_SEND_BUFFER_BYTES: '262144' });
    const node = herald;
    const user = await herald.user('slow');
    const url = `${herald.url}/api/v1/sse?token=${user.token}`;
    const slow = openSse(url);
    await slow.waitFor((m) => m.type === 'resumed');
    slow.pause();
    const flooding = flood(node, FLOOD);
    await until(() => [...node.manager.all()].some((conn) => conn.userId === user.id && conn.state === 'closing'), 50_000, 'the server closing the slow reader');
    slow.resume();
    expect(await slow.ended).toEqual({ code: CloseCode.SLOW_CONSUMER, reason: expect.stringContaining('send buffer overflow') });
    const before = slow.of('announcement').map((m) => m.i as number);
    expect(before.length).toBeLessThan(FLOOD);
    await flooding;

    // Like a browser: reconnect with the last id until caught up. A replay is not paced by the
    // reader (WebSocket sessions alike): one larger than the send buffer is cut again after what
    // fits, and each round resumes where the last one stopped.
    const received = [...before];
    let lastId = slow.lastEventId()!;
    for (let round = 0; received.length < FLOOD && round < 80; round++) {
      const again = openSse(url, { 'last-event-id': lastId });
      await Promise.race([again.waitFor((m) => m.type === 'resumed', 30_000), again.ended]);
      if (again.messages.some((m) => m.type === 'resumed')) again.close();
      await again.ended;
      received.push(...again.of('announcement').map((m) => m.i as number));
      lastId = again.lastEventId() ?? lastId;
    }
    expect(received).toEqual(Array.from({ length: FLOOD }, (_, i) => i));
    const metrics = await (await fetch(`${herald.url}/metrics`)).text();
    expect(metrics).toMatch(/herald_ws_closes_total\{code="4010"\} [1-9]/);
  }, 90_000);
});
