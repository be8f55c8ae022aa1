import { streamsFor, type ServerMessage } from '@herald/protocol';
import { describe, expect, it, vi } from 'vitest';
import type { StoredNotification } from '../store/index.js';
import { Delivery, type DeliverySink, type LiveMeta, type ReplaySource } from './delivery.js';
import type { Heads, Opening } from './opening.js';

/** The store, in memory: rows per stream; reads can be held to let live messages arrive mid-replay. */
class MemorySource implements ReplaySource {
  readonly rows = new Map<string, StoredNotification[]>();
  reads = 0;
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  add(stream: string, from: number, to: number): this {
    const rows = this.rows.get(stream) ?? [];
    for (let seq = from; seq <= to; seq++) rows.push({ id: seq, stream, seq, type: 'system_message', payload: { message: `${stream}#${seq}` }, created_at: 0 });
    this.rows.set(stream, rows);
    return this;
  }

  hold(): void {
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async readStream(stream: string, after: number, limit: number): Promise<StoredNotification[]> {
    this.reads++;
    await this.#gate;
    if (this.failWith) throw this.failWith;
    return (this.rows.get(stream) ?? []).filter((row) => row.seq > after).slice(0, limit);
  }
}

/** Everything delivery put out, as short lines: `stored broadcast@3`, `live broadcast@6`, `resumed 3`, … */
class ArraySink implements DeliverySink<string, LiveMeta> {
  readonly out: string[] = [];
  readonly messages: ServerMessage[] = [];
  failures = 0;

  message(message: ServerMessage): void {
    this.messages.push(message);
    if (message.type === 'resumed') this.out.push(`resumed ${message.replayed}`);
    else if (message.type === 'resync_required') this.out.push(`resync_required ${message.streams.join(',')}`);
    else if (message.type === 'error') this.out.push(`error ${message.code}`);
    else this.out.push(message.type);
  }

  stored(row: StoredNotification): void {
    this.out.push(`stored ${row.stream}@${row.seq}`);
  }

  live(item: string, meta: LiveMeta): void {
    this.out.push(`live ${meta.stream}@${meta.offset} ${item}`);
  }

  ephemeral(item: string): void {
    this.out.push(`ephemeral ${item}`);
  }

  failed(): void {
    this.failures++;
  }
}

const STREAMS = streamsFor(7, false); // user:7, broadcast
const at = (stream: string, offset: number): LiveMeta => ({ type: 'system_message', stream, offset });
const progress: LiveMeta = { type: 'transcode_progress' };

function opening(since: string | null, heads: Heads): Opening {
  return {
    since,
    heads,
    greeting: { userId: '7', username: 'ann', admin: false, stats: { total_users: 1, total_user_connections: 1, total_admin_connections: 0, total_connections: 1 }, unread: { count: 0, positions: {} }, nodeId: 'n1' },
    snapshot: [],
  };
}

function setUp(source = new MemorySource()) {
  const sink = new ArraySink();
  const delivery = new Delivery<string, LiveMeta>(STREAMS, source, sink);
  return { source, sink, delivery };
}

/** Opens at the heads (no since) and waits until live. */
async function openLive(source: MemorySource, broadcastHead: number) {
  const parts = setUp(source);
  await parts.delivery.open(opening(null, { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: broadcastHead, pruned: 0 } }));
  parts.sink.out.length = 0;
  parts.sink.messages.length = 0;
  return parts;
}

describe('replay then live', () => {
  it('replays what was missed since the position, then live messages, with no duplicate at the seam', async () => {
    const { source, sink, delivery } = setUp(new MemorySource().add('broadcast', 1, 5));
    source.hold();
    const opened = delivery.open(opening('broadcast@2', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 5, pruned: 0 } }));
    // Published while the replay reads the store: 5 is also in the store, 6 is new.
    delivery.push('five', at('broadcast', 5));
    delivery.push('six', at('broadcast', 6));
    source.release();
    await opened;
    expect(sink.out).toEqual(['connected', 'stored broadcast@3', 'stored broadcast@4', 'stored broadcast@5', 'live broadcast@6 six', 'resumed 3']);
    expect(sink.messages[0]).toMatchObject({ type: 'connected', user_id: '7', streams: { 'user:7': 0, broadcast: 2 } });
    expect(sink.messages.at(-1)).toMatchObject({ type: 'resumed', positions: { 'user:7': 0, broadcast: 6 } });
    expect(delivery.phase).toBe('live');
    delivery.push('six again', at('broadcast', 6));
    delivery.push('seven', at('broadcast', 7));
    expect(sink.out.slice(-2)).toEqual(['resumed 3', 'live broadcast@7 seven']);
  });

  it('queues live messages and progress during the replay and delivers them in arrival order, each once', async () => {
    const { source, sink, delivery } = setUp(new MemorySource().add('broadcast', 1, 5).add('user:7', 1, 2));
    source.hold();
    const opened = delivery.open(opening('broadcast@3,user:7@1', { 'user:7': { head: 2, pruned: 0 }, broadcast: { head: 5, pruned: 0 } }));
    delivery.push('old', at('broadcast', 4));
    delivery.push('tick 1', progress);
    delivery.push('six', at('broadcast', 6));
    delivery.push('mine', at('user:7', 3));
    delivery.push('six twice', at('broadcast', 6));
    delivery.push('tick 2', progress);
    expect(sink.out).toEqual(['connected']);
    source.release();
    await opened;
    expect(sink.out).toEqual([
      'connected',
      'stored user:7@2',
      'stored broadcast@4',
      'stored broadcast@5',
      'ephemeral tick 1',
      'live broadcast@6 six',
      'live user:7@3 mine',
      'ephemeral tick 2',
      'resumed 3',
    ]);
  });

  it('reads a long backlog in batches, in order', async () => {
    const { sink, delivery } = setUp(new MemorySource().add('broadcast', 1, 1200));
    await delivery.open(opening('broadcast@0', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 1200, pruned: 0 } }));
    const offsets = sink.out.filter((line) => line.startsWith('stored')).map((line) => Number(line.split('@')[1]));
    expect(offsets).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(sink.out.at(-1)).toBe('resumed 1200');
  });

  it('does not read streams already at their head when opening', async () => {
    const source = new MemorySource();
    await openLive(source, 5);
    expect(source.reads).toBe(0);
  });
});

describe('gaps', () => {
  it('fills a gap from the store when a live offset jumps, then carries on live', async () => {
    const source = new MemorySource().add('broadcast', 1, 5);
    const { sink, delivery } = await openLive(source, 5);
    delivery.push('six', at('broadcast', 6));
    // 7 and 8 were published where this node could not see them; 9 arrives before they do.
    source.add('broadcast', 7, 9);
    delivery.push('nine', at('broadcast', 9));
    expect(delivery.phase).toBe('replaying');
    delivery.push('ten', at('broadcast', 10));
    await vi.waitFor(() => expect(delivery.phase).toBe('live'));
    expect(sink.out).toEqual(['live broadcast@6 six', 'stored broadcast@7', 'stored broadcast@8', 'stored broadcast@9', 'live broadcast@10 ten']);
    expect(delivery.positions).toEqual({ 'user:7': 0, broadcast: 10 });
  });

  it('asks for a resync when the missing messages are gone from the store, and delivers what follows', async () => {
    const source = new MemorySource();
    const { sink, delivery } = await openLive(source, 5);
    delivery.push('eight', at('broadcast', 8)); // 6 and 7 were pruned
    await vi.waitFor(() => expect(delivery.phase).toBe('live'));
    expect(sink.out).toEqual(['resync_required broadcast', 'live broadcast@8 eight']);
    expect(sink.messages[0]).toMatchObject({ type: 'resync_required', streams: ['broadcast'], positions: { broadcast: 7 } });
  });

  it('catches up from the store when the broker may have lost messages', async () => {
    const source = new MemorySource().add('broadcast', 1, 5);
    const { sink, delivery } = await openLive(source, 5);
    source.add('broadcast', 6, 7).add('user:7', 1, 1);
    delivery.resync();
    await vi.waitFor(() => expect(delivery.phase).toBe('live'));
    expect(sink.out).toEqual(['stored user:7@1', 'stored broadcast@6', 'stored broadcast@7']);
  });

  it('drops live messages of streams the connection does not read', async () => {
    const source = new MemorySource();
    const { sink, delivery } = await openLive(source, 0);
    delivery.push('foreign', at('admins', 1));
    source.hold();
    delivery.resync();
    delivery.push('foreign while replaying', at('admins', 1));
    source.release();
    await vi.waitFor(() => expect(delivery.phase).toBe('live'));
    expect(sink.out).toEqual([]);
  });
});

describe('the end of delivery', () => {
  it('stops and reports when the store cannot be read', async () => {
    const source = new MemorySource().add('broadcast', 1, 5);
    source.failWith = new Error('store down');
    const { sink, delivery } = setUp(source);
    await delivery.open(opening('broadcast@1', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 5, pruned: 0 } }));
    expect(sink.failures).toBe(1);
    expect(delivery.phase).toBe('stopped');
    expect(sink.out).toEqual(['connected']);
  });

  it('puts nothing more out once stopped, also from a replay under way', async () => {
    const source = new MemorySource().add('broadcast', 1, 5);
    const { sink, delivery } = setUp(source);
    source.hold();
    const opened = delivery.open(opening('broadcast@1', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 5, pruned: 0 } }));
    delivery.push('six', at('broadcast', 6));
    delivery.stop();
    source.release();
    await opened;
    delivery.push('seven', at('broadcast', 7));
    delivery.push('tick', progress);
    expect(sink.out).toEqual(['connected']);
  });
});

describe('replay backpressure', () => {
  it('waits for the sink to drain before the next stored row, and stops if the session ends meanwhile', async () => {
    const source = new MemorySource().add('broadcast', 1, 4);
    const gate: { release?: () => void } = {};
    const releaseGate = () => gate.release?.();
    class SlowSink extends ArraySink {
      drained(): Promise<void> | undefined {
        if (this.out.filter((line) => line.startsWith('stored')).length !== 2) return undefined;
        return new Promise((resolve) => (gate.release = resolve));
      }
    }
    const sink = new SlowSink();
    const delivery = new Delivery<string, LiveMeta>(STREAMS, source, sink);
    const opened = delivery.open(opening('broadcast@0', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 4, pruned: 0 } }));
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    expect(sink.out).toEqual(['connected', 'stored broadcast@1', 'stored broadcast@2']);
    releaseGate();
    await opened;
    expect(sink.out.slice(3)).toEqual(['stored broadcast@3', 'stored broadcast@4', 'resumed 4']);

    const stopping = new SlowSink();
    const stopped = new Delivery<string, LiveMeta>(STREAMS, source, stopping);
    gate.release = undefined;
    const ended = stopped.open(opening('broadcast@0', { 'user:7': { head: 0, pruned: 0 }, broadcast: { head: 4, pruned: 0 } }));
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    stopped.stop();
    releaseGate();
    await ended;
    expect(stopping.out).toEqual(['connected', 'stored broadcast@1', 'stored broadcast@2']);
  });
});
