import {
  ADMIN_STREAM,
  BROADCAST_STREAM,
  EPHEMERAL_TYPES,
  MessageType,
  isServerMessage,
  notificationsReadMessage,
  streamsFor,
  userStream,
  type Level,
  type StreamPosition,
} from '@herald/protocol';
import type { Logger } from 'pino';
import { channelFor, type Broker } from '../broker/index.js';
import { unavailable } from '../errors.js';
import type { StoredNotification, Store, UnreadState } from '../store/index.js';
import { ProgressBoard } from './progress.js';
import { nowIso, readMeta, wireText } from './wire.js';

/** Who receives a notification: administrators, everyone, or one user. */
export type Target = 'admin' | 'all' | number;

export interface Delivery {
  /** The persisted records (one per stream), empty for ephemeral messages. */
  stored: StoredNotification[];
  /** True when an idempotency key matched an earlier request: nothing new was sent. */
  replayed?: boolean;
}

export const streamOf = (target: Target): string =>
  target === 'admin' ? ADMIN_STREAM : target === 'all' ? BROADCAST_STREAM : userStream(target);

/** What the service counts (`Metrics` on a node; nothing in `herald worker`). */
export interface PublishMetrics {
  countPublished(type: string, stream: string): void;
}

/** Read-state change, published on the user's stream channel so every device updates. */
export interface ReadChange {
  ids: number[] | 'all';
  unread: UnreadState;
}

/**
 * The specification's NotificationService: builds the wire messages, makes persisted
 * ones durable (store first), then publishes through the broker.
 */
export class NotificationService {
  readonly progress = new ProgressBoard();
  readonly #store: Store;
  readonly #broker: Broker;
  readonly #log: Logger;
  readonly #metrics: PublishMetrics | undefined;
  readonly #onProgressPayload = (payload: string) => this.#track(payload);

  constructor(store: Store, broker: Broker, log: Logger, metrics?: PublishMetrics) {
    this.#store = store;
    this.#broker = broker;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** Follows the admins' channel to keep the in-flight progress board of this node. */
  async start(): Promise<void> {
    await this.#broker.subscribe(channelFor(ADMIN_STREAM), this.#onProgressPayload);
  }

  async stop(): Promise<void> {
    await this.#broker.unsubscribe(channelFor(ADMIN_STREAM), this.#onProgressPayload);
  }

  /**
   * Sends one notification of any type to a target. Persisted types are written before
   * they are published; a failed publish is repaired by catch-up from the store.
   */
  async publish(target: Target, type: string, fields: Record<string, unknown>, idempotencyKey?: string): Promise<Delivery> {
    const payload = { ...fields, timestamp: typeof fields.timestamp === 'string' ? fields.timestamp : nowIso() };
    const stream = streamOf(target);
    if (EPHEMERAL_TYPES.has(type)) {
      await this.#publishText(stream, JSON.stringify({ type, ...payload }));
      return { stored: [] };
    }
    let stored: StoredNotification;
    try {
      if (idempotencyKey !== undefined) {
        const once = await this.#store.streams.appendOnce(idempotencyKey, stream, type, payload);
        if (once.replayed) return { stored: [once.stored], replayed: true };
        stored = once.stored;
      } else stored = await this.#store.streams.append(stream, type, payload);
    } catch (error) {
      this.#log.error({ err: error, stream, type }, 'could not persist notification');
      throw unavailable('notification store unavailable; the notification may or may not be stored (retry with the same Idempotency-Key)');
    }
    // Durable now: the answer does not wait for the broker (a stalled Redis would hold every
    // producer for its command timeout); a failed publish is repaired by catch-up from the store.
    void this.#publishText(stream, wireText(stored));
    this.#metrics?.countPublished(type, stream);
    return { stored: [stored] };
  }

  async #publishText(stream: string, text: string): Promise<void> {
    try {
      await this.#broker.publish(channelFor(stream), text);
    } catch (error) {
      // Persisted messages are recovered from the store by catch-up; progress ticks are superseded.
      this.#log.warn({ err: error, stream }, 'broker publish failed');
    }
  }

  /** Progress of a transcode job: ephemeral, to the admins and to the video's owner. */
  async notifyTranscodeProgress(
    videoId: number,
    status: string,
    progress: number,
    message: string,
    extra: { job_id?: string; user_id?: number } = {},
  ): Promise<void> {
    const fields = { video_id: videoId, status, progress: Math.max(0, Math.min(100, progress)), message, ...extra };
    await this.publish('admin', MessageType.TRANSCODE_PROGRESS, fields);
    if (extra.user_id !== undefined) await this.publish(extra.user_id, MessageType.TRANSCODE_PROGRESS, fields);
    this.#log.info({ video_id: videoId, status, progress }, '📡 transcode progress sent');
  }

  async notifyTranscodeComplete(
    videoId: number,
    title: string,
    formatType: string,
    fileSize: number,
    extra: { job_id?: string; user_id?: number } = {},
  ): Promise<Delivery> {
    const { user_id, ...rest } = extra;
    const fields = { video_id: videoId, title, format_type: formatType, file_size: fileSize, ...rest };
    const delivery = await this.#toAdminsAndOwner(MessageType.TRANSCODE_COMPLETE, fields, user_id);
    this.#log.info({ video_id: videoId, format: formatType }, '✅ transcode complete sent');
    return delivery;
  }

  async notifyTranscodeFailed(videoId: number, title: string, error: string, extra: { job_id?: string; user_id?: number } = {}): Promise<Delivery> {
    const { user_id, ...rest } = extra;
    const delivery = await this.#toAdminsAndOwner(MessageType.TRANSCODE_FAILED, { video_id: videoId, title, error, ...rest }, user_id);
    this.#log.info({ video_id: videoId }, '❌ transcode failed sent');
    return delivery;
  }

  async notifySystemMessage(message: string, level: Level, target: Target = 'all', idempotencyKey?: string): Promise<Delivery> {
    const delivery = await this.publish(target, MessageType.SYSTEM_MESSAGE, { message, level }, idempotencyKey);
    this.#log.info({ msg_level: level, target }, '📢 system message sent');
    return delivery;
  }

  async #toAdminsAndOwner(type: string, fields: Record<string, unknown>, userId: number | undefined): Promise<Delivery> {
    const first = await this.publish('admin', type, fields);
    if (userId === undefined) return first;
    const second = await this.publish(userId, type, fields);
    return { stored: [...first.stored, ...second.stored] };
  }

  // ---- inbox and read state ----

  async unread(userId: number, isAdmin: boolean): Promise<UnreadState> {
    return this.#store.inbox.unread(userId, streamsFor(userId, isAdmin));
  }

  /** Marks notifications read and tells every device of the user. Unknown or foreign ids are ignored. */
  async markRead(userId: number, isAdmin: boolean, ids: number[] | 'all'): Promise<ReadChange> {
    const streams = streamsFor(userId, isAdmin);
    let marked: number[] | 'all' = 'all';
    if (ids === 'all') await this.#store.inbox.markAllRead(userId, streams);
    else marked = await this.#store.inbox.markRead(userId, ids, streams);
    const unread = await this.#store.inbox.unread(userId, streams);
    const change: ReadChange = { ids: marked, unread };
    await this.#publishText(userStream(userId), JSON.stringify(notificationsReadMessage(marked, unread)));
    return change;
  }

  #track(payload: string): void {
    const parsed = readMeta(payload);
    if (!parsed) return;
    const { meta, message } = parsed;
    if (isServerMessage(message, MessageType.TRANSCODE_PROGRESS)) this.progress.update(message);
    // A job with several formats completes once per format; only its final progress tick or a failure ends it.
    else if (meta.type === MessageType.TRANSCODE_FAILED) this.progress.finish(meta.job_id, meta.video_id ?? 0);
  }
}

export type { StreamPosition };
