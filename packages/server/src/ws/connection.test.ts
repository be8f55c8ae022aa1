import { getHeapSnapshot } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startHerald();
});
afterAll(() => herald.stop());

/** Live objects named `name` in a heap snapshot of this process (the snapshot collects garbage first). */
async function liveObjects(name: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of getHeapSnapshot()) chunks.push(chunk as Buffer);
  const snapshot = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const objectType = snapshot.snapshot.meta.node_types[0].indexOf('object');
  let count = 0;
  for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
    if (snapshot.nodes[i + typeAt] === objectType && snapshot.strings[snapshot.nodes[i + nameAt]] === name) count++;
  }
  return count;
}

describe('Connection lifecycle', () => {
  it('leaves no timer behind once closed, however long its token had to live', async () => {
    // Every connection arms a timer for its token's expiry, each with its own duration. Node
    // keeps a list per duration, and kept the list of a cleared *unref'd* timer until the
    // original expiry: one list per closed connection for the rest of its token's lifetime.
    const admin = await herald.user('timers', { admin: true });
    const before = await liveObjects('TimersList');
    for (let i = 0; i < 60; i++) {
      const socket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
      await socket.waitFor((m) => m.type === 'resumed');
      socket.close();
      await socket.closed;
    }
    await expect.poll(() => herald.manager.getConnectionCount().total_connections).toBe(0);
    const after = await liveObjects('TimersList');
    expect(after - before).toBeLessThan(10);
  }, 60_000); // two heap snapshots: slow on a loaded machine
});
