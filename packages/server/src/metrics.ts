import { ADMIN_STREAM, BROADCAST_STREAM } from '@herald/protocol';
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
    help: 'Notifications stored and published by this node, by type and stream (user streams counted together)',
    labelNames: ['type', 'stream'] as const,
    registers: [this.registry],
  });
  readonly ingressRejected = new Counter({
    name: 'herald_ingress_rejected_total',
    help: 'Payloads from the Redis notifications channel not delivered, by reason (not_json, too_big, invalid, unknown_user, unavailable)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly connections: Gauge<'kind' | 'transport'>;
  #count: () => { users: number; admins: number; sse?: { users: number; admins: number } } = () => ({ users: 0, admins: 0 });

  countSent(type: string): void {
    this.#sent.set(type, (this.#sent.get(type) ?? 0) + 1);
  }

  /** Counts a notification made durable and handed to the broker (not an idempotent replay). */
  countPublished(type: string, stream: string): void {
    this.published.inc({ type, stream: stream === ADMIN_STREAM || stream === BROADCAST_STREAM ? stream : 'user' });
  }

  /** Where the connection gauge reads its figures (the connection manager, once it exists). */
  observeConnections(count: () => { users: number; admins: number; sse?: { users: number; admins: number } }): void {
    this.#count = count;
  }

  constructor() {
    const sent = this.#sent;
    const count = () => this.#count();
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
      help: 'Open connections on this node, by kind and transport (ws | sse)',
      labelNames: ['kind', 'transport'] as const,
      registers: [this.registry],
      collect() {
        const { users, admins, sse = { users: 0, admins: 0 } } = count();
        this.set({ kind: 'user', transport: 'ws' }, users - sse.users);
        this.set({ kind: 'admin', transport: 'ws' }, admins - sse.admins);
        this.set({ kind: 'user', transport: 'sse' }, sse.users);
        this.set({ kind: 'admin', transport: 'sse' }, sse.admins);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
  }
}
