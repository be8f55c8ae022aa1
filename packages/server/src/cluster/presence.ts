import type { ConnectionStats } from '@herald/protocol';
import type { Broker, NodeReport } from '../broker/index.js';

/** A node's report counts this long after it was written: a node that died stops counting by then. */
export const NODE_TTL_MS = 6_000;
/** Other nodes' reports are at most this old; this node's figures are always live. */
const PEERS_MAX_AGE_MS = 1_000;
/** How old the cluster's distinct-user count may be (merging every node's users is O(users)). */
const DISTINCT_USERS_MAX_AGE_MS = 250;
/** A change of this node's connections is reported within this delay (reports coalesce). */
const REPORT_DELAY_MS = 200;

export function sumStats(all: ConnectionStats[]): ConnectionStats {
  const total: ConnectionStats = { total_users: 0, total_user_connections: 0, total_admin_connections: 0, total_connections: 0, transports: { ws: 0, sse: 0 } };
  for (const s of all) {
    total.total_users += s.total_users;
    total.total_user_connections += s.total_user_connections;
    total.total_admin_connections += s.total_admin_connections;
    total.total_connections += s.total_connections;
    // A node of an older version reports no transports: its connections are WebSockets.
    total.transports!.ws += s.transports?.ws ?? s.total_connections;
    total.transports!.sse += s.transports?.sse ?? 0;
  }
  return total;
}

/** This node's connections, as the connection manager keeps them. */
export interface LocalConnections {
  getConnectionCount(): ConnectionStats;
  /** Connections of one user here, both endpoints. */
  countOf(userId: number): number;
  /** Connections per user here, both endpoints. */
  perUser(): ReadonlyMap<number, number>;
  /** Users on the user endpoint here. */
  readerIds(): Iterable<number>;
}

function reportOf(local: LocalConnections): NodeReport {
  return { stats: local.getConnectionCount(), users: Object.fromEntries(local.perUser()), readers: [...local.readerIds()] };
}

/** What this node knows of the others, from their last reports. */
interface Peers {
  stats: Record<string, ConnectionStats>;
  /** Connections per user over the other nodes. */
  connections: Map<number, number>;
  /** Users on the other nodes' user endpoint. */
  readers: Set<number>;
  /** Users of reports without reader ids (nodes of an older version): counted as they report. */
  uncountedUsers: number;
}

function peersFrom(nodes: Record<string, NodeReport>, self: string): Peers {
  const peers: Peers = { stats: {}, connections: new Map(), readers: new Set(), uncountedUsers: 0 };
  for (const [id, report] of Object.entries(nodes)) {
    if (id === self) continue;
    peers.stats[id] = report.stats;
    for (const [user, count] of Object.entries(report.users ?? {})) peers.connections.set(Number(user), (peers.connections.get(Number(user)) ?? 0) + count);
    if (report.readers === undefined) peers.uncountedUsers += report.stats.total_users;
    else for (const user of report.readers) peers.readers.add(user);
  }
  return peers;
}

/**
 * This node's presence in the cluster: it reports its connections (figures, connections per
 * user, users on the user endpoint) through the broker with a TTL, and answers cluster-wide
 * statistics and per-user connection counts from every live node's report. A node that dies
 * without a word stops counting once its report is `NODE_TTL_MS` old.
 */
export class NodePresence {
  readonly #nodeId: string;
  readonly #broker: Broker;
  readonly #local: LocalConnections;
  #timer: NodeJS.Timeout | undefined;
  #pending: NodeJS.Timeout | undefined;
  #peers: { at: number; peers: Promise<Peers> } | undefined;
  #distinctUsers: { at: number; peers: Peers; count: number } | undefined;

  constructor(nodeId: string, broker: Broker, local: LocalConnections) {
    this.#nodeId = nodeId;
    this.#broker = broker;
    this.#local = local;
  }

  async start(): Promise<void> {
    this.#timer = setInterval(() => void this.#report(), NODE_TTL_MS / 3);
    this.#timer.unref();
    await this.#report();
  }

  /** Stops reporting and removes this node from the cluster's figures at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#pending);
    this.#timer = undefined;
    await this.#broker.forgetNode(this.#nodeId).catch(() => undefined);
  }

  /** This node's connections changed: the others learn it within `REPORT_DELAY_MS`. */
  changed(): void {
    if (this.#pending !== undefined || this.#timer === undefined) return;
    this.#pending = setTimeout(() => {
      this.#pending = undefined;
      void this.#report();
    }, REPORT_DELAY_MS);
    this.#pending.unref();
  }

  async statsByNode(): Promise<Record<string, ConnectionStats>> {
    return { ...(await this.#peersNow()).stats, [this.#nodeId]: this.#local.getConnectionCount() };
  }

  /** Cluster-wide figures: connections summed, users counted once however many nodes they are on. */
  async stats(): Promise<ConnectionStats> {
    const peers = await this.#peersNow();
    const local = this.#local.getConnectionCount();
    const total = sumStats([...Object.values(peers.stats), local]);
    return { ...total, total_users: this.#usersOver(peers, local.total_users) };
  }

  /**
   * Users counted once over the cluster. Alone, this node's count; with peers, the union of
   * every node's users, which costs a pass over them: it runs at most every
   * DISTINCT_USERS_MAX_AGE_MS (every `connected` carries it), so a connect storm stays O(1) per connect.
   */
  #usersOver(peers: Peers, localUsers: number): number {
    if (peers.readers.size === 0) return peers.uncountedUsers + localUsers;
    const cached = this.#distinctUsers;
    if (cached && cached.peers === peers && Date.now() - cached.at < DISTINCT_USERS_MAX_AGE_MS) return cached.count;
    let count = peers.readers.size + peers.uncountedUsers;
    for (const user of this.#local.readerIds()) if (!peers.readers.has(user)) count++;
    this.#distinctUsers = { at: Date.now(), peers, count };
    return count;
  }

  /** A user's connections over the cluster (both endpoints): this node's now, the others' as last reported. */
  async connectionsOf(userId: number): Promise<number> {
    const peers = await this.#peersNow();
    return this.#local.countOf(userId) + (peers.connections.get(userId) ?? 0);
  }

  #peersNow(): Promise<Peers> {
    if (!this.#peers || Date.now() - this.#peers.at > PEERS_MAX_AGE_MS) {
      const peers = this.#broker.nodes().then(
        (nodes) => peersFrom(nodes, this.#nodeId),
        () => peersFrom({}, this.#nodeId),
      );
      this.#peers = { at: Date.now(), peers };
    }
    return this.#peers.peers;
  }

  #report(): Promise<void> {
    return this.#broker.reportNode(this.#nodeId, reportOf(this.#local), NODE_TTL_MS).catch(() => undefined);
  }
}
