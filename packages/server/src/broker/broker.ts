/** Receives one published payload (a serialised wire message). */
export type BrokerHandler = (payload: string, channel: string) => void;

import type { ConnectionStats } from '@herald/protocol';

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
  /** Reports this node's connection figures; they count until `ttlMs` passes without a new report. */
  reportNode(nodeId: string, stats: ConnectionStats, ttlMs: number): Promise<void>;
  /** Figures of every live node, by node id. */
  nodes(): Promise<Record<string, ConnectionStats>>;
  forgetNode(nodeId: string): Promise<void>;
  /** True for exactly one caller in the cluster per key within `ttlMs` (one node handles a shared input). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Channel names, one per stream; the Redis broker prefixes them. */
export const channelFor = (stream: string) => `herald:${stream}`;
