import type { Broker, BrokerHandler, BrokerHealth, NodeReport } from './broker.js';

/** In-process broker for the embedded default: one process, no network. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  readonly #channels = new Map<string, Set<BrokerHandler>>();
  readonly #nodes = new Map<string, { report: NodeReport; expiresAt: number }>();

  async publish(channel: string, payload: string): Promise<void> {
    const handlers = this.#channels.get(channel);
    if (!handlers) return;
    // Deliver asynchronously, like a network broker: publishers never re-enter consumers.
    queueMicrotask(() => {
      for (const handler of handlers) handler(payload, channel);
    });
  }

  async subscribe(channel: string, handler: BrokerHandler): Promise<void> {
    let handlers = this.#channels.get(channel);
    if (!handlers) this.#channels.set(channel, (handlers = new Set()));
    handlers.add(handler);
  }

  async unsubscribe(channel: string, handler: BrokerHandler): Promise<void> {
    const handlers = this.#channels.get(channel);
    if (!handlers) return;
    handlers.delete(handler);
    if (handlers.size === 0) this.#channels.delete(channel);
  }

  onRecovered(): void {
    /* an in-process broker never loses messages */
  }

  async health(): Promise<BrokerHealth> {
    return { ok: true, detail: 'in-process' };
  }

  async reportNode(nodeId: string, report: NodeReport, ttlMs: number): Promise<void> {
    this.#nodes.set(nodeId, { report, expiresAt: Date.now() + ttlMs });
  }

  async nodes(): Promise<Record<string, NodeReport>> {
    const now = Date.now();
    const result: Record<string, NodeReport> = {};
    for (const [id, node] of this.#nodes) {
      if (node.expiresAt < now) this.#nodes.delete(id);
      else result[id] = node.report;
    }
    return result;
  }

  async forgetNode(nodeId: string): Promise<void> {
    this.#nodes.delete(nodeId);
  }

  readonly #claims = new Map<string, number>();

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    for (const [k, until] of this.#claims) if (until < now) this.#claims.delete(k);
    if (this.#claims.has(key)) return false;
    this.#claims.set(key, now + ttlMs);
    return true;
  }

  async close(): Promise<void> {
    this.#channels.clear();
  }
}
