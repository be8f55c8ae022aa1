import { createHash } from 'node:crypto';
import { MessageType, parseServerMessage } from '@herald/protocol';
import type { Logger } from 'pino';
import type { Broker, BrokerHandler } from '../broker/index.js';
import type { NotificationService } from './service.js';

/** The specification's channel: `redis_client.publish('notifications', json.dumps({...}))`. */
export const COMPAT_CHANNEL = 'notifications';
const CLAIM_TTL_MS = 5000;
/** What a message carries besides its own fields: its type, and a position (the store assigns its own). */
const NOT_FIELDS: ReadonlySet<string> = new Set(['type', 'id', 'stream', 'offset']);
const ACCEPTED: ReadonlySet<string> = new Set([
  MessageType.TRANSCODE_PROGRESS,
  MessageType.TRANSCODE_COMPLETE,
  MessageType.TRANSCODE_FAILED,
  MessageType.SYSTEM_MESSAGE,
]);

/**
 * Accepts messages that outside producers publish on the `notifications` channel and
 * delivers them to the admins through the NotificationService (persisted when their type
 * is). Every node hears the message; one claims it, so it is stored and sent once.
 * An identical payload repeated within 5 s is taken as the same message.
 */
export class CompatBridge {
  readonly #broker: Broker;
  readonly #notifications: NotificationService;
  readonly #log: Logger;
  readonly #handler: BrokerHandler = (payload) => void this.#accept(payload);

  constructor(broker: Broker, notifications: NotificationService, log: Logger) {
    this.#broker = broker;
    this.#notifications = notifications;
    this.#log = log;
  }

  start(): Promise<void> {
    return this.#broker.subscribe(COMPAT_CHANNEL, this.#handler);
  }

  stop(): Promise<void> {
    return this.#broker.unsubscribe(COMPAT_CHANNEL, this.#handler);
  }

  async #accept(payload: string): Promise<void> {
    const parsed = parseServerMessage(payload.slice(0, 65_536));
    if (!parsed.ok || !ACCEPTED.has(parsed.value.type)) {
      this.#log.warn({ channel: COMPAT_CHANNEL, problem: parsed.ok ? `type ${parsed.value.type} not accepted` : parsed.error }, 'dropped an invalid message from the notifications channel');
      return;
    }
    const key = createHash('sha1').update(payload).digest('hex');
    try {
      if (!(await this.#broker.claim(`compat:${key}`, CLAIM_TTL_MS))) return;
      // A position given by the producer is not ours: the store gives the message its own.
      const fields = Object.fromEntries(Object.entries(parsed.value).filter(([field]) => !NOT_FIELDS.has(field)));
      await this.#notifications.publish('admin', parsed.value.type, fields);
    } catch (error) {
      this.#log.error({ err: error }, 'could not deliver a message from the notifications channel');
    }
  }
}
