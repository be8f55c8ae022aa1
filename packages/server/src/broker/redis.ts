import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Broker, BrokerHandler, BrokerHealth, NodeReport } from './broker.js';

const PROBE_TIMEOUT_MS = 1500;
/** Longest a command on the publishing connection may take: a publish never holds a request for an outage. */
const COMMAND_TIMEOUT_MS = 2000;
const RECOVERY_CHECK_MS = 250;
const NODES_KEY = 'herald:nodes';

/**
 * Redis Pub/Sub broker: one connection publishes, one subscribes. Subscriptions are per
 * stream channel, so a node only receives what its connections read. ioredis resubscribes
 * after a reconnect; messages published while the subscriber was away are recovered by the
 * consumers from the store (`onRecovered`).
 */
export class RedisBroker implements Broker {
  readonly kind = 'redis' as const;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #channels = new Map<string, Set<BrokerHandler>>();
  readonly #recovered = new Set<() => void>();
  readonly #probeChannel = `herald:probe:${randomUUID()}`;
  readonly #probes = new Map<string, () => void>();
  #wasDown = false;
  #recoveryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #prefix: string;

  private constructor(url: string, prefix: string) {
    this.#prefix = prefix;
    const options = { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true, retryStrategy: (times: number) => Math.min(times * 200, 2000) };
    // Commands in flight when a connection drops wait for the reconnect (ioredis resends them), however
    // long the outage: bound them, so a publish fails in time and is repaired by catch-up instead.
    // Auto-pipelining: the publishes of one turn (a batch of events: one per stream) go out in one
    // write instead of one write() per PUBLISH; each still has its own reply and timeout.
    this.#pub = new Redis(url, { ...options, commandTimeout: COMMAND_TIMEOUT_MS, enableAutoPipelining: true });
    this.#sub = new Redis(url, { ...options, maxRetriesPerRequest: null });
    for (const client of [this.#pub, this.#sub]) client.on('error', () => undefined);
    this.#sub.on('message', (channel: string, payload: string) => this.#dispatch(channel, payload));
    this.#sub.on('close', () => {
      this.#wasDown = true;
    });
    this.#sub.on('ready', () => {
      if (!this.#wasDown) return;
      this.#wasDown = false;
      // ioredis resubscribes on ready; give it a moment before consumers catch up.
      setTimeout(() => this.#recovered.forEach((listener) => listener()), 100).unref();
    });
  }

  /** `prefix` namespaces every channel and key, so several deployments can share one Redis. */
  static async connect(url: string, prefix = ''): Promise<RedisBroker> {
    const broker = new RedisBroker(url, prefix);
    await Promise.all([broker.#pub.connect(), broker.#sub.connect()]);
    await broker.#sub.subscribe(broker.#probeChannel);
    return broker;
  }

  #dispatch(fullChannel: string, payload: string): void {
    if (fullChannel === this.#probeChannel) {
      this.#probes.get(payload)?.();
      return;
    }
    const channel = fullChannel.slice(this.#prefix.length);
    const handlers = this.#channels.get(channel);
    if (!handlers) return;
    for (const handler of handlers) handler(payload, channel);
  }

  /**
   * Publishes, or fails at once while Redis is away (the payload is already durable; queueing it
   * would only hold the caller). A failed publish schedules a catch-up from the store for every
   * consumer once Redis answers again, also when only the publishing connection was affected.
   */
  async publish(channel: string, payload: string): Promise<void> {
    if (this.#pub.status !== 'ready') {
      this.#scheduleRecovery();
      throw new Error(`redis unavailable (${this.#pub.status})`);
    }
    try {
      await this.#pub.publish(this.#prefix + channel, payload);
    } catch (error) {
      this.#scheduleRecovery();
      throw error;
    }
  }

  /**
   * Fires the recovery listeners once the pub/sub path works again end to end (a silent
   * network leaves both connections 'ready' while nothing gets through).
   */
  #scheduleRecovery(): void {
    if (this.#recoveryTimer || this.#closed) return;
    this.#recoveryTimer = setTimeout(() => void this.#tryRecovery(), RECOVERY_CHECK_MS);
    this.#recoveryTimer.unref();
  }

  async #tryRecovery(): Promise<void> {
    const ok = !this.#closed && this.#pub.status === 'ready' && this.#sub.status === 'ready' && !this.#wasDown && (await this.health()).ok;
    this.#recoveryTimer = undefined;
    if (this.#closed) return;
    if (ok) this.#recovered.forEach((listener) => listener());
    else this.#scheduleRecovery();
  }

  async subscribe(channel: string, handler: BrokerHandler): Promise<void> {
    let handlers = this.#channels.get(channel);
    if (!handlers) {
      this.#channels.set(channel, (handlers = new Set()));
      handlers.add(handler);
      await this.#sub.subscribe(this.#prefix + channel);
      return;
    }
    handlers.add(handler);
  }

  async unsubscribe(channel: string, handler: BrokerHandler): Promise<void> {
    const handlers = this.#channels.get(channel);
    if (!handlers) return;
    handlers.delete(handler);
    if (handlers.size === 0) {
      this.#channels.delete(channel);
      await this.#sub.unsubscribe(this.#prefix + channel);
    }
  }

  onRecovered(listener: () => void): void {
    this.#recovered.add(listener);
  }

  /** Probes the pub/sub path end to end: a subscriber can go deaf while PING still works. */
  async health(): Promise<BrokerHealth> {
    const token = randomUUID();
    const received = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      this.#probes.set(token, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      await this.#pub.publish(this.#probeChannel, token);
      const ok = await received;
      return { ok, detail: ok ? 'redis pub/sub round trip ok' : 'redis pub/sub probe not received' };
    } catch (error) {
      return { ok: false, detail: `redis unreachable: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      this.#probes.delete(token);
    }
  }

  /** Node figures live in one hash; each entry carries its own expiry, checked by readers. */
  async reportNode(nodeId: string, report: NodeReport, ttlMs: number): Promise<void> {
    await this.#pub.hset(this.#prefix + NODES_KEY, nodeId, JSON.stringify({ ...report, expires_at: Date.now() + ttlMs }));
  }

  async nodes(): Promise<Record<string, NodeReport>> {
    const entries = await this.#pub.hgetall(this.#prefix + NODES_KEY);
    const now = Date.now();
    const result: Record<string, NodeReport> = {};
    const expired: string[] = [];
    for (const [id, raw] of Object.entries(entries)) {
      try {
        const { expires_at, ...report } = JSON.parse(raw) as NodeReport & { expires_at: number };
        if (expires_at < now) expired.push(id);
        else result[id] = report;
      } catch {
        expired.push(id);
      }
    }
    if (expired.length > 0) await this.#pub.hdel(this.#prefix + NODES_KEY, ...expired);
    return result;
  }

  async forgetNode(nodeId: string): Promise<void> {
    await this.#pub.hdel(this.#prefix + NODES_KEY, nodeId);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#pub.set(`${this.#prefix}herald:claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK';
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#recoveryTimer);
    this.#channels.clear();
    this.#pub.disconnect();
    this.#sub.disconnect();
  }
}
