import { createHash } from 'node:crypto';
import { ErrorCode } from '@herald/protocol';
import type { Logger } from 'pino';
import type { Broker, BrokerHandler } from '../broker/index.js';
import { HeraldError } from '../errors.js';
import { parseEvent } from './events.js';
import type { NotificationService } from './service.js';

/** The specification's channel: `redis_client.publish('notifications', json.dumps({...}))`. */
export const COMPAT_CHANNEL = 'notifications';
/** Payloads on the channel larger than this are refused (`too_big`). */
export const MAX_COMPAT_PAYLOAD_BYTES = 64 * 1024;
const CLAIM_TTL_MS = 5000;

/** Why a payload from the channel was not delivered: the `reason` of `herald_ingress_rejected_total`. */
export type IngressRejection = 'not_json' | 'too_big' | 'invalid' | 'unknown_user' | 'unavailable';

/**
 * Accepts events that outside producers publish on the `notifications` channel, in the
 * envelope of `POST /api/v1/events` (`target` optional: without one it goes to the admins, as
 * in the specification), and sends them through the producers' path. Every node hears the
 * payload; one claims it, so it is stored and sent once. An identical payload repeated within
 * 5 s is taken as the same message. A payload that cannot be delivered is logged with the
 * reason and counted (`onReject`).
 */
export class CompatBridge {
  readonly #broker: Broker;
  readonly #notifications: NotificationService;
  readonly #log: Logger;
  readonly #onReject: (reason: IngressRejection) => void;
  readonly #handler: BrokerHandler = (payload) => void this.#accept(payload);

  constructor(broker: Broker, notifications: NotificationService, log: Logger, onReject: (reason: IngressRejection) => void = () => undefined) {
    this.#broker = broker;
    this.#notifications = notifications;
    this.#log = log;
    this.#onReject = onReject;
  }

  start(): Promise<void> {
    return this.#broker.subscribe(COMPAT_CHANNEL, this.#handler);
  }

  stop(): Promise<void> {
    return this.#broker.unsubscribe(COMPAT_CHANNEL, this.#handler);
  }

  #reject(reason: IngressRejection, problem: string, payload: string): void {
    this.#onReject(reason);
    this.#log.warn({ channel: COMPAT_CHANNEL, reason, problem, payload: payload.slice(0, 200) }, 'refused a message from the notifications channel');
  }

  async #accept(payload: string): Promise<void> {
    const bytes = Buffer.byteLength(payload);
    if (bytes > MAX_COMPAT_PAYLOAD_BYTES) return this.#reject('too_big', `${bytes} bytes, over the limit of ${MAX_COMPAT_PAYLOAD_BYTES}`, payload);
    let input: unknown;
    try {
      input = JSON.parse(payload);
    } catch {
      return this.#reject('not_json', 'not valid JSON', payload);
    }
    let event;
    try {
      event = parseEvent(input, COMPAT_CHANNEL, 'admin');
    } catch (error) {
      return this.#reject('invalid', (error as Error).message, payload);
    }
    const key = createHash('sha1').update(payload).digest('hex');
    try {
      if (!(await this.#broker.claim(`compat:${key}`, CLAIM_TTL_MS))) return;
      await this.#notifications.publishEvents([event], () => undefined);
    } catch (error) {
      if (error instanceof HeraldError && error.code === ErrorCode.NOT_FOUND) return this.#reject('unknown_user', error.message, payload);
      this.#onReject('unavailable');
      this.#log.error({ err: error, channel: COMPAT_CHANNEL }, 'could not deliver a message from the notifications channel');
    }
  }
}
