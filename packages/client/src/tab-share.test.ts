// Two "tabs" (two registries) in one process, sharing one socket through TabShare, with
// Node's real BroadcastChannel and a small in-process Web Locks (Node 20 has none).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ConnectionRegistry, type TabShareEnvironment, type WebSocketConstructor } from './index.js';
import { TestServer, waitFor } from '@herald/testing/fake-server';

const WS = WebSocket as unknown as WebSocketConstructor;

/** Exclusive named locks with the Web Locks semantics TabShare uses: ifAvailable, waiting, abort. */
class InProcessLocks {
  readonly #held = new Set<string>();
  readonly #waiting = new Map<string, Array<() => void>>();

  async request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown> {
    if (this.#held.has(name)) {
      if (options.ifAvailable) return callback(null);
      await new Promise<void>((resolve, reject) => {
        const queue = this.#waiting.get(name) ?? [];
        this.#waiting.set(name, queue);
        queue.push(resolve);
        options.signal?.addEventListener('abort', () => {
          queue.splice(queue.indexOf(resolve), 1);
          reject(new Error('AbortError'));
        });
      });
    }
    this.#held.add(name);
    try {
      return await callback({ name });
    } finally {
      this.#held.delete(name);
      this.#waiting.get(name)?.shift()?.();
    }
  }
}

let server: TestServer;
let tabs: ConnectionRegistry[];

beforeEach(async () => {
  server = await TestServer.start();
  const environment: TabShareEnvironment = { locks: new InProcessLocks(), BroadcastChannel: BroadcastChannel as unknown as TabShareEnvironment['BroadcastChannel'] };
  const namespace = `test-${Math.random()}`;
  tabs = [new ConnectionRegistry({ environment, namespace }), new ConnectionRegistry({ environment, namespace })];
});

afterEach(async () => {
  for (const tab of tabs) tab.reset();
  await server.close();
});

const options = { getToken: () => 'good', WebSocket: WS, onlineSource: null, logger: null, heartbeatInterval: 0 };
const live = () => server.connections.filter((c) => c.socket.readyState === c.socket.OPEN);

describe('TabShare', () => {
  it('serves two tabs from one socket; when the leader tab releases it, the other takes over without loss or duplicates', async () => {
    const a = tabs[0]!.acquire({ ...options, url: server.url });
    a.client.connect();
    await waitFor(() => a.client.getState() === 'open');
    const b = tabs[1]!.acquire({ ...options, url: server.url });
    const seen: number[] = [];
    b.client.on('system_message', (m) => void seen.push((m as { offset: number }).offset));
    b.client.connect();
    await waitFor(() => b.client.getState() === 'open');
    expect(server.connections).toHaveLength(1);

    const first = server.connections[0]!;
    for (const offset of [1, 2]) first.send({ type: 'system_message', message: `m${offset}`, level: 'info', id: offset, stream: 'broadcast', offset });
    await waitFor(() => seen.length === 2);
    // A read in the follower tab goes through the leader's socket.
    expect(b.client.markRead()).toBe(true);
    await waitFor(() => first.received.includes('{"type":"mark_all_read"}'));

    a.release(); // the leader tab unmounts its last hook: tab b must take over, not stop
    await waitFor(() => live().length === 1 && live()[0] !== first && b.client.getState() === 'open', 3000);
    const second = live()[0]!;
    expect(second.since).toContain('broadcast@2');
    second.send({ type: 'system_message', message: 'm3', level: 'info', id: 3, stream: 'broadcast', offset: 3 });
    await waitFor(() => seen.length === 3);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('welcomes a tab that joins late with the progress in flight and where it stands', async () => {
    const a = tabs[0]!.acquire({ ...options, url: server.url });
    a.client.connect();
    await waitFor(() => a.client.getState() === 'open');
    const conn = server.connections[0]!;
    conn.send({ type: 'transcode_progress', video_id: 4, status: 'processing', progress: 40, message: 'x' });
    conn.send({ type: 'system_message', message: 'old', level: 'info', id: 1, stream: 'broadcast', offset: 1 });
    await waitFor(() => a.client.positions.broadcast === 1);
    const b = tabs[1]!.acquire({ ...options, url: server.url });
    b.client.connect();
    await waitFor(() => b.client.getState() === 'open');
    await waitFor(() => b.feed.getSnapshot().transcodeProgress.get(4)?.progress === 40);
    expect(b.client.positions.broadcast).toBe(1);
    expect(b.feed.getSnapshot().notifications).toHaveLength(0); // 'old' came before b joined: not replayed as new
    expect(server.connections).toHaveLength(1);
  });
});
