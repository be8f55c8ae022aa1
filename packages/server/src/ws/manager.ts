import { ADMIN_STREAM, BROADCAST_STREAM, type ConnectionStats } from '@herald/protocol';
import type { Logger } from 'pino';
import { channelFor, type Broker, type BrokerHandler } from '../broker/index.js';
import { readMeta, type WireMeta } from '../notifications/index.js';
import type { Connection } from './connection.js';
import { SharedFrame } from './frames.js';
import { StreamOrder } from './reorder.js';

const CHANNEL_PREFIX = channelFor('');

/**
 * The specification's ConnectionManager: user connections grouped by user id (several
 * devices each), admin connections in their own pool, and fan-out of broker payloads to
 * every local connection reading the payload's stream. Nothing here assumes one process and
 * nothing here publishes: NotificationService publishes through the broker, which delivers
 * to every node.
 */
export class ConnectionManager {
  readonly #users = new Map<number, Set<Connection>>();
  readonly #admins = new Set<Connection>();
  readonly #byStream = new Map<string, Set<Connection>>();
  /** Connections per user over both endpoints, and user-endpoint connections in all: O(1) limits and stats. */
  readonly #perUser = new Map<number, number>();
  #userConnections = 0;
  readonly #changed: Array<() => void> = [];
  /** Connections carried by SSE (`sse/`); the rest are WebSockets. */
  readonly #sse = { users: 0, admins: 0 };
  readonly #broker: Broker;
  readonly #log: Logger;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #onPayload: BrokerHandler = (payload, channel) => this.#fanOut(payload, channel);
  /** Positioned messages handed to connections in offset order, once per node (see StreamOrder). */
  readonly #order = new StreamOrder<{ frame: SharedFrame; meta: WireMeta }>((stream, { frame, meta }) => this.#deliverTo(stream, frame, meta));

  constructor(broker: Broker, log: Logger) {
    this.#broker = broker;
    this.#log = log;
    broker.onRecovered(() => {
      this.#log.warn('broker recovered; catching every connection up from the store');
      for (const conn of this.all()) conn.resync();
    });
  }

  /** Adds a connection to its pools; resolves once its streams' subscriptions are active. */
  async connect(conn: Connection): Promise<void> {
    if (conn.isAdmin) this.#admins.add(conn);
    else {
      let devices = this.#users.get(conn.userId);
      if (!devices) this.#users.set(conn.userId, (devices = new Set()));
      devices.add(conn);
      this.#userConnections++;
    }
    this.#perUser.set(conn.userId, (this.#perUser.get(conn.userId) ?? 0) + 1);
    this.#notifyChanged();
    if (conn.transport === 'sse') this.#sse[conn.isAdmin ? 'admins' : 'users']++;
    const subscribing: Promise<void>[] = [];
    for (const stream of conn.streams) {
      let readers = this.#byStream.get(stream);
      if (!readers) {
        this.#byStream.set(stream, (readers = new Set()));
        subscribing.push(this.#broker.subscribe(channelFor(stream), this.#onPayload));
      }
      readers.add(conn);
    }
    await Promise.all(subscribing);
    if (!this.#log.isLevelEnabled('info')) return;
    if (conn.isAdmin) this.#log.info({ admin_id: conn.userId, admins: this.#admins.size }, `✅ Admin WebSocket连接已建立, 当前管理员连接数: ${this.#admins.size}`);
    else this.#log.info({ user_id: conn.userId, devices: this.#users.get(conn.userId)?.size }, '✅ User WebSocket connected');
  }

  /** Removes a connection from every pool and drops subscriptions no local connection needs. */
  disconnect(conn: Connection): void {
    if (conn.isAdmin) {
      if (!this.#admins.delete(conn)) return;
      this.#log.info({ admin_id: conn.userId, admins: this.#admins.size }, `❌ Admin WebSocket连接已断开, 剩余管理员连接数: ${this.#admins.size}`);
    } else {
      const devices = this.#users.get(conn.userId);
      if (!devices?.delete(conn)) return;
      if (devices.size === 0) this.#users.delete(conn.userId);
      this.#userConnections--;
      this.#log.info({ user_id: conn.userId }, '❌ User WebSocket disconnected');
    }
    if (conn.transport === 'sse') this.#sse[conn.isAdmin ? 'admins' : 'users']--;
    const remaining = (this.#perUser.get(conn.userId) ?? 1) - 1;
    if (remaining <= 0) this.#perUser.delete(conn.userId);
    else this.#perUser.set(conn.userId, remaining);
    this.#notifyChanged();
    for (const stream of conn.streams) {
      const readers = this.#byStream.get(stream);
      if (!readers) continue;
      readers.delete(conn);
      if (readers.size === 0 && stream !== ADMIN_STREAM && stream !== BROADCAST_STREAM) {
        this.#byStream.delete(stream);
        this.#order.forget(stream);
        void this.#broker.unsubscribe(channelFor(stream), this.#onPayload).catch(() => undefined);
      }
    }
  }

  #fanOut(payload: string, channel: string): void {
    const stream = channel.slice(CHANNEL_PREFIX.length);
    const readers = this.#byStream.get(stream);
    if (!readers || readers.size === 0) return;
    const parsed = readMeta(payload);
    if (!parsed) {
      this.#log.warn({ channel }, 'dropped a broker payload that is not a wire message');
      return;
    }
    // Serialised once by the publisher, encoded and framed once here, written to every socket.
    const frame = new SharedFrame(Buffer.from(payload));
    const { meta } = parsed;
    if (meta.offset !== undefined) this.#order.offer(stream, meta.offset, { frame, meta });
    else for (const conn of readers) conn.deliver(frame, meta);
  }

  #deliverTo(stream: string, frame: SharedFrame, meta: WireMeta): void {
    const readers = this.#byStream.get(stream);
    if (readers) for (const conn of readers) conn.deliver(frame, meta);
  }

  /** This node's figures, in the specification's shape. */
  getConnectionCount(): ConnectionStats {
    return {
      total_users: this.#users.size,
      total_user_connections: this.#userConnections,
      total_admin_connections: this.#admins.size,
      total_connections: this.#userConnections + this.#admins.size,
      transports: { ws: this.#userConnections + this.#admins.size - this.#sse.users - this.#sse.admins, sse: this.#sse.users + this.#sse.admins },
    };
  }

  /** This node's SSE connections by endpoint (the rest are WebSockets). */
  sseCount(): { users: number; admins: number } {
    return { ...this.#sse };
  }

  /** How many connections one user has on this node (both endpoints). */
  countOf(userId: number): number {
    return this.#perUser.get(userId) ?? 0;
  }

  /** Connections per user on this node (both endpoints). */
  perUser(): ReadonlyMap<number, number> {
    return this.#perUser;
  }

  /** Users connected to the user endpoint on this node. */
  readerIds(): Iterable<number> {
    return this.#users.keys();
  }

  /** Calls `listener` after every connect and disconnect (the cluster's presence reports them). */
  onChanged(listener: () => void): void {
    this.#changed.push(listener);
  }

  #notifyChanged(): void {
    for (const listener of this.#changed) listener();
  }

  /** Open connections of one user on this node (both endpoints). */
  connectionsOf(userId: number): Connection[] {
    const result = [...(this.#users.get(userId) ?? [])];
    for (const conn of this.#admins) if (conn.userId === userId) result.push(conn);
    return result;
  }

  *all(): IterableIterator<Connection> {
    for (const devices of this.#users.values()) yield* devices;
    yield* this.#admins;
  }

  /** Protocol pings on an interval; a connection that missed the previous pong is terminated. */
  startHeartbeat(intervalMs: number): void {
    this.stopHeartbeat();
    this.#heartbeat = setInterval(() => {
      for (const conn of this.all()) {
        if (!conn.heartbeat()) {
          this.#log.info({ user_id: conn.userId }, 'terminated a connection that missed its heartbeat');
          this.disconnect(conn);
        }
      }
    }, intervalMs);
    this.#heartbeat.unref();
  }

  stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  closeAll(code: number, reason: (conn: Connection) => string): void {
    for (const conn of [...this.all()]) conn.close(code, reason(conn));
  }

  async subscribeShared(): Promise<void> {
    for (const stream of [ADMIN_STREAM, BROADCAST_STREAM]) {
      if (!this.#byStream.has(stream)) {
        this.#byStream.set(stream, new Set());
        await this.#broker.subscribe(channelFor(stream), this.#onPayload);
      }
    }
  }
}
