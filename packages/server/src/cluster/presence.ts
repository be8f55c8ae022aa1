import type { ConnectionStats } from '@herald/protocol';
import type { Broker } from '../broker/index.js';

const NODE_TTL_MS = 6_000;
/** Other nodes' figures are at most this old; this node's are always live. */
const PEERS_MAX_AGE_MS = 1_000;

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

/**
 * This node's presence in the cluster: it reports its connection figures through the
 * broker with a TTL, and answers cluster-wide statistics from every live node's report.
 */
export class NodePresence {
  readonly #nodeId: string;
  readonly #broker: Broker;
  readonly #local: () => ConnectionStats;
  #timer: NodeJS.Timeout | undefined;
  #peers: { at: number; nodes: Promise<Record<string, ConnectionStats>> } | undefined;

  constructor(nodeId: string, broker: Broker, local: () => ConnectionStats) {
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
    this.#timer = undefined;
    await this.#broker.forgetNode(this.#nodeId).catch(() => undefined);
  }

  async statsByNode(): Promise<Record<string, ConnectionStats>> {
    if (!this.#peers || Date.now() - this.#peers.at > PEERS_MAX_AGE_MS) {
      this.#peers = { at: Date.now(), nodes: this.#broker.nodes().catch(() => ({})) };
    }
    return { ...(await this.#peers.nodes), [this.#nodeId]: this.#local() };
  }

  async stats(): Promise<ConnectionStats> {
    return sumStats(Object.values(await this.statsByNode()));
  }

  #report(): Promise<void> {
    return this.#broker.reportNode(this.#nodeId, this.#local(), NODE_TTL_MS).catch(() => undefined);
  }
}
