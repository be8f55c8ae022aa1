/** Receives one published payload (a serialised wire message). */
export type BrokerHandler = (payload: string, channel: string) => void;

import type { ConnectionStats } from '@herald/protocol';

/** What a node reports of its connections (see `cluster/presence.ts`). */
export interface NodeReport {
  stats: ConnectionStats;
  /** Connections per user id on the node, both endpoints: the per-user limit sums them over the cluster. */
  users?: Record<string, number>;
  /** Ids of the users on the node's user endpoint: `total_users` counts each once over the cluster. */
  readers?: number[];
}

export interface BrokerHealth {
  ok: boolean;
  detail: string;
}

/**
 * Fan-out between Herald nodes. Payloads are published once and delivered to every
 * subscriber of the channel on every node, the publishing node included.
 */
export interface Broker {
  readonly kind: 'memory' | 'redis';
  publish(channel: string, payload: string): Promise<void>;
  /** Resolves once the subscription is active (messages published afterwards arrive). */
  subscribe(channel: string, handler: BrokerHandler): Promise<void>;
  unsubscribe(channel: string, handler: BrokerHandler): Promise<void>;
  /** Called after the broker lost messages (e.g. reconnected to Redis): consumers catch up from the store. */
  onRecovered(listener: () => void): void;
  health(): Promise<BrokerHealth>;
  /** Reports this node's connections; they count until `ttlMs` passes without a new report. */
  reportNode(nodeId: string, report: NodeReport, ttlMs: number): Promise<void>;
  /** Reports of every live node, by node id. */
  nodes(): Promise<Record<string, NodeReport>>;
  forgetNode(nodeId: string): Promise<void>;
  /** True for exactly one caller in the cluster per key within `ttlMs` (one node handles a shared input). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Channel names, one per stream; the Redis broker prefixes them. */
export const channelFor = (stream: string) => `herald:${stream}`;
