// Fault-test helpers: a steady producer that remembers every acknowledged notification, SDK
// clients that record every persisted message they receive, and the users those tests sign in.
import type { Socket } from 'node:net';
import { HeraldClient } from '@herald/client';
import { WebSocket } from 'ws';
import { sleep } from './wait.js';

export interface Ack {
  id: number;
  stream: string;
  offset: number;
  at: number;
}

/**
 * Posts a `system_message` every `intervalMs` through nginx with the service key, cycling
 * through the targets, and remembers every id it got 202 for.
 */
export class Producer {
  readonly acked = new Map<number, Ack>();
  readonly statuses = new Map<string, number>();
  readonly unavailable: unknown[] = [];
  /** The first response body seen per non-202 status, for failure messages. */
  readonly samples = new Map<string, string>();
  sent = 0;
  skipped = 0;
  #inflight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #n = 0;

  /** With `idempotent`: retries answered 202 (after a 502/503 or a network error) and replays the server reported. */
  retried = 0;
  replayed = 0;
  /** Extra characters appended to each message (bursts of big messages). */
  padding = 0;
  readonly #runId = Math.random().toString(36).slice(2, 10);

  constructor(
    readonly url: string,
    readonly serviceKey: string,
    readonly targets: Array<'admin' | 'all' | number>,
    public maxInflight = 16,
    /** Send an `Idempotency-Key` per notification and retry a 502/503/network error once with the same key. */
    readonly idempotent = false,
  ) {}

  start(intervalMs = 20): void {
    this.#timer ??= setInterval(() => {
      if (this.#inflight.size >= this.maxInflight) {
        this.skipped++;
        return;
      }
      const request = this.#post().finally(() => this.#inflight.delete(request));
      this.#inflight.add(request);
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Statuses counted since `before` (a copy of `statuses` taken earlier). */
  since(before: Map<string, number>): Record<string, number> {
    const result: Record<string, number> = {};
    for (const [status, count] of this.statuses) if (count - (before.get(status) ?? 0) > 0) result[status] = count - (before.get(status) ?? 0);
    return result;
  }

  async #post(): Promise<void> {
    const n = ++this.#n;
    const target = this.targets[n % this.targets.length];
    const key = this.idempotent ? `${this.#runId}-${n}` : undefined;
    const body = JSON.stringify({ message: `m${n}${this.padding > 0 ? ` ${'x'.repeat(this.padding)}` : ''}`, level: 'info', target });
    this.sent++;
    let status = await this.#attempt(body, key);
    if (key !== undefined && (status === '502' || status === '503' || status.startsWith('error:'))) {
      this.statuses.set(`${status}(retried)`, (this.statuses.get(`${status}(retried)`) ?? 0) + 1);
      await sleep(100);
      status = await this.#attempt(body, key);
      if (status === '202') this.retried++;
    }
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  async #attempt(body: string, key: string | undefined): Promise<string> {
    try {
      const res = await fetch(`${this.url}/api/v1/notifications`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.serviceKey}`,
          'content-type': 'application/json',
          ...(key !== undefined ? { 'idempotency-key': key } : {}),
        },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const status = String(res.status);
      const text = await res.text();
      if (res.status !== 202 && !this.samples.has(status)) this.samples.set(status, text.slice(0, 300));
      if (res.status === 202) {
        const parsed = JSON.parse(text) as { ids: number[]; stream: string; offset: number };
        if (res.headers.get('idempotent-replayed') === 'true') this.replayed++;
        this.acked.set(parsed.ids[0], { id: parsed.ids[0], stream: parsed.stream, offset: parsed.offset, at: Date.now() });
      } else if (res.status === 503) {
        try {
          this.unavailable.push(JSON.parse(text));
        } catch {
          this.unavailable.push(text);
        }
      }
      return status;
    } catch (error) {
      return `error:${(error as Error).name}`;
    }
  }
}

export interface RecordingClientOptions {
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  connectTimeout?: number;
}

/** A HeraldClient in Node through nginx that records every persisted message it hands to the UI. */
export class RecordingClient {
  readonly client: HeraldClient;
  /** Times each notification id was delivered (after the SDK's dedupe). */
  readonly seen = new Map<number, number>();
  readonly streams = new Set<string>();
  readonly lastOffset = new Map<string, number>();
  readonly disconnects: Array<{ code: number; reason: string; at: number }> = [];
  outOfOrder = 0;
  foreign = 0;
  deliveries = 0;
  /** The client's current `ws` socket (to pause its reading). */
  socket: WebSocket | undefined;

  constructor(
    readonly name: string,
    wsUrl: string,
    token: string,
    isAdmin: boolean,
    options: RecordingClientOptions = {},
  ) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    class TrackedWebSocket extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        self.socket = this;
      }
    }
    this.client = new HeraldClient({
      url: wsUrl,
      getToken: () => token,
      isAdmin,
      WebSocket: TrackedWebSocket as never,
      onlineSource: null,
      fetch: globalThis.fetch as never,
      reconnectInterval: 100,
      maxReconnectInterval: 1000,
      maxReconnectAttempts: Infinity,
      heartbeatInterval: options.heartbeatInterval ?? 2000,
      heartbeatTimeout: options.heartbeatTimeout ?? 4000,
      connectTimeout: options.connectTimeout ?? 8000,
    });
    this.client.on('connected', (m) => {
      for (const stream of Object.keys((m as { streams?: Record<string, number> }).streams ?? {})) this.streams.add(stream);
    });
    this.client.on('system_message', (m) => {
      const { id, stream, offset } = m as unknown as { id?: number; stream?: string; offset?: number };
      if (typeof id !== 'number' || typeof stream !== 'string' || typeof offset !== 'number') return;
      this.deliveries++;
      this.seen.set(id, (this.seen.get(id) ?? 0) + 1);
      if (!this.streams.has(stream)) this.foreign++;
      if (offset <= (this.lastOffset.get(stream) ?? 0)) this.outOfOrder++;
      this.lastOffset.set(stream, offset);
    });
    this.client.on('disconnect', (e) => this.disconnects.push({ code: e.code, reason: e.reason, at: Date.now() }));
  }

  get open(): boolean {
    return this.client.getState() === 'open';
  }

  /** Acknowledged ids this client reads (by stream) that it has not received. */
  missing(acked: Iterable<Ack>, olderThan = Infinity): number[] {
    const result: number[] = [];
    for (const ack of acked) if (ack.at <= olderThan && this.streams.has(ack.stream) && !this.seen.has(ack.id)) result.push(ack.id);
    return result;
  }

  /** Delivered ids the producer never got a 202 for (a request cut after the write). */
  unacknowledged(acked: Map<number, unknown>): number {
    let count = 0;
    for (const id of this.seen.keys()) if (!acked.has(id)) count++;
    return count;
  }

  duplicates(): number {
    let extra = 0;
    for (const count of this.seen.values()) extra += count - 1;
    return extra;
  }

  /** Stops reading from the TCP socket (the kernel buffers fill, the server's send buffer grows). */
  pauseReading(): void {
    (this.socket as unknown as { _socket?: Socket } | undefined)?._socket?.pause();
  }

  resumeReading(): void {
    (this.socket as unknown as { _socket?: Socket } | undefined)?._socket?.resume();
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Signs in as `admin` through the cluster's URL and creates the two users the fault tests
 * use (alice, bob); returns their tokens and alice's id.
 */
export async function signInUsers(baseUrl: string, adminPassword: string): Promise<{ adminToken: string; aliceId: number; aliceToken: string; bobToken: string }> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const login = async (username: string, password: string) => String((await post('/api/v1/auth/login', { username, password })).access_token);
  const adminToken = await login('admin', adminPassword);
  const alice = await post('/api/v1/users', { username: 'alice', password: 'alice-password-1' }, adminToken);
  await post('/api/v1/users', { username: 'bob', password: 'bob-password-12' }, adminToken);
  return { adminToken, aliceId: Number(alice.id), aliceToken: await login('alice', 'alice-password-1'), bobToken: await login('bob', 'bob-password-12') };
}
