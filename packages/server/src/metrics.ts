import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one Herald node (own registry, so several apps can live in one process). */
export class Metrics {
  readonly registry = new Registry();
  /** Sends counted on the hot path in a plain map since the last scrape; folded into the counter when scraped. */
  readonly #sent = new Map<string, number>();
  readonly messagesSent: Counter<'type'>;
  readonly authFailures = new Counter({
    name: 'herald_auth_failures_total',
    help: 'Refused WebSocket and HTTP authentications, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly closes = new Counter({
    name: 'herald_ws_closes_total',
    help: 'WebSocket connections closed, by close code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly published = new Counter({
    name: 'herald_notifications_published_total',
    help: 'Notifications published, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly connections: Gauge<'kind'>;

  countSent(type: string): void {
    this.#sent.set(type, (this.#sent.get(type) ?? 0) + 1);
  }

  constructor(count: () => { users: number; admins: number }) {
    const sent = this.#sent;
    this.messagesSent = new Counter({
      name: 'herald_messages_sent_total',
      help: 'Messages written to WebSockets, by message type',
      labelNames: ['type'] as const,
      registers: [this.registry],
      collect() {
        for (const [type, count] of sent) this.inc({ type }, count);
        sent.clear();
      },
    });
    this.connections = new Gauge({
      name: 'herald_ws_connections',
      help: 'Open WebSocket connections on this node, by kind',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      collect() {
        const { users, admins } = count();
        this.set({ kind: 'user' }, users);
        this.set({ kind: 'admin' }, admins);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
  }
}
