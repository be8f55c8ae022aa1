import type { Broker, BrokerHandler, BrokerHealth } from './broker.js';

/** In-process broker for the embedded default: one process, no network. */
export class MemoryBroker implements Broker {
  readonly kind = 'memory' as const;
  readonly #channels = new Map<string, Set<BrokerHandler>>();

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

  async close(): Promise<void> {
    this.#channels.clear();
  }
}
