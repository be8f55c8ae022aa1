import {
  ErrorCode,
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
import { HeraldError, unavailable } from '../errors.js';
import type { NewNotification, StoredNotification, Store, UnreadState } from '../store/index.js';
import type { ParsedEvent } from './events.js';
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

/** Where one event went: its stream, and its id and offset there when stored. */
export interface EventDelivery {
  stream: string;
  id?: number;
  offset?: number;
}

/** What happened to one event of a publish request, in the request's order. */
export interface EventResult {
  type: string;
  stored: boolean;
  deliveries: EventDelivery[];
}

/** A request made once per caller (`scope`) and `Idempotency-Key`, bound to the hash of its body. */
export interface PublishOnce {
  scope: string;
  key: string;
  hash: string;
}

/** One message bound for one stream, before it is stored or sent. */
interface Outgoing extends NewNotification {
  persist: boolean;
  /** Index of the event it came from. */
  event: number;
}

/** What the service counts (`Metrics` on a node; nothing in `herald worker`). */
/** Turns the public user ids producers write into users (`Identities` in `auth/`). */
export interface UserTargets {
  resolvePublicIds(ids: readonly string[], options: { provision?: boolean }): Promise<{ users: Map<string, { id: number }>; unknown: string[]; invalid: string[] }>;
}

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
  readonly #users: UserTargets;
  readonly #broker: Broker;
  readonly #log: Logger;
  readonly #metrics: PublishMetrics | undefined;
  readonly #onProgressPayload = (payload: string) => this.#track(payload);

  constructor(store: Store, broker: Broker, log: Logger, users: UserTargets, metrics?: PublishMetrics) {
    this.#store = store;
    this.#users = users;
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
   * Sends one notification of any type to a target, without checking that a user target
   * exists (Herald's own producers). Persisted types are written before they are published.
   */
  async publish(target: Target, type: string, fields: Record<string, unknown>): Promise<Delivery> {
    const persist = !EPHEMERAL_TYPES.has(type);
    const done = await this.#deliver([{ stream: streamOf(target), type, payload: stamped(fields), persist, event: 0 }]);
    return { stored: 'stored' in done ? done.stored : [] };
  }

  /**
   * The producers' publish path (`POST /api/v1/events`, the Redis channel, the transcoder):
   * resolves user targets (404 listing unknown ids), stores every persisted event of the
   * request in one transaction (all or nothing), then sends them all in order. `answer`
   * shapes the reply from the results; with `once`, that reply is recorded with the batch
   * and a repeat of the key gets it back (same body) or a 422 (different body).
   */
  async publishEvents<A>(events: readonly ParsedEvent[], answer: (results: EventResult[]) => A, once?: PublishOnce): Promise<{ answer: A; replayed: boolean }> {
    const earlier = once ? await this.#storeCall(() => this.#store.streams.findRequest(once.scope, once.key), once) : undefined;
    if (earlier) return { answer: replay<A>(earlier, once!), replayed: true };
    const users = await this.#resolveUsers(events);
    const at = nowIso(); // one request, one time: not a clock read per event
    const outgoing = events.flatMap((event, index) =>
      targetStreams(event, users).map((stream): Outgoing => ({ stream, type: event.type, payload: stamped(event.fields, at), persist: event.persist, event: index })),
    );
    const results = (stored: StoredNotification[]) => resultsOf(events, outgoing, stored);
    const record = once && { ...once, answer: (stored: StoredNotification[]) => JSON.stringify(answer(results(stored))) };
    const done = await this.#deliver(outgoing, record);
    if ('earlier' in done) return { answer: replay<A>(done.earlier, once!), replayed: true };
    return { answer: done.answer !== undefined ? (JSON.parse(done.answer) as A) : answer(results(done.stored)), replayed: false };
  }

  /** Public user ids of every target to internal ids; 400 for ids that cannot be users, 404 listing unknown ones. */
  async #resolveUsers(events: readonly ParsedEvent[]): Promise<Map<string, number>> {
    const ids = new Set<string>();
    for (const { target } of events) if (typeof target === 'object') for (const id of target.users) ids.add(id);
    if (ids.size === 0) return new Map();
    // With platform tokens, ids Herald has not seen yet are provisioned: the event waits in their inbox.
    const found = await this.#storeCall(() => this.#users.resolvePublicIds([...ids], { provision: true }));
    if (found.invalid.length > 0) {
      const invalid = new Set(found.invalid);
      const at = events.find((e) => typeof e.target === 'object' && e.target.users.some((id) => invalid.has(id)))?.where ?? 'event';
      const named = found.invalid.slice(0, 20).map((id) => JSON.stringify(id.slice(0, 40))).join(', ');
      throw new HeraldError(ErrorCode.VALIDATION, `${at}.target must be one of admin, all or a user id (or a list of user ids); not user ids: ${named}; nothing was sent`, {
        invalid_user_ids: found.invalid,
      });
    }
    if (found.unknown.length > 0) {
      throw new HeraldError(ErrorCode.NOT_FOUND, `unknown user ids: ${found.unknown.slice(0, 20).join(', ')}; nothing was sent`, { unknown_user_ids: found.unknown });
    }
    return new Map([...found.users].map(([id, user]) => [id, user.id]));
  }

  /** Stores the persisted messages in one transaction, then publishes every message in order. */
  async #deliver(outgoing: Outgoing[], once?: Parameters<Store['streams']['appendBatch']>[1]) {
    const toStore = outgoing.filter((o) => o.persist);
    let result: Awaited<ReturnType<Store['streams']['appendBatch']>>;
    try {
      result = await this.#store.streams.appendBatch(toStore, once);
    } catch (error) {
      this.#log.error({ err: error, count: toStore.length }, 'could not persist notifications');
      const retry = once ? ' (retry with the same Idempotency-Key)' : '';
      throw unavailable(`notification store unavailable; the notifications may or may not be stored${retry}`);
    }
    if ('earlier' in result) return result;
    // Durable now: the answer does not wait for the broker (a stalled Redis would hold every
    // producer for its command timeout); a failed publish is repaired by catch-up from the store.
    let next = 0;
    for (const o of outgoing) {
      if (!o.persist) {
        void this.#publishText(o.stream, JSON.stringify({ type: o.type, ...o.payload }));
        continue;
      }
      const stored = result.stored[next++];
      void this.#publishText(stored.stream, wireText(stored));
      this.#metrics?.countPublished(stored.type, stored.stream);
    }
    return result;
  }

  async #storeCall<T>(call: () => Promise<T>, once?: PublishOnce): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.#log.error({ err: error, key: once?.key }, 'notification store unavailable');
      throw unavailable('notification store unavailable; nothing was sent');
    }
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

  async notifySystemMessage(message: string, level: Level, target: Target = 'all'): Promise<Delivery> {
    const delivery = await this.publish(target, MessageType.SYSTEM_MESSAGE, { message, level });
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

/** The fields with a `timestamp` (theirs, or now). Copied with for-in: an object spread costs ~20× more per event in Node 20. */
function stamped(fields: Record<string, unknown>, at?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) out[key] = fields[key];
  if (typeof out.timestamp !== 'string') out.timestamp = at ?? nowIso();
  return out;
}

function targetStreams({ target }: ParsedEvent, users: Map<string, number>): string[] {
  return typeof target === 'object' ? target.users.map((id) => userStream(users.get(id)!)) : [streamOf(target)];
}

function replay<A>(earlier: { hash: string; answer: string }, once: PublishOnce): A {
  if (earlier.hash !== once.hash) {
    throw new HeraldError(ErrorCode.IDEMPOTENCY_CONFLICT, `Idempotency-Key "${once.key}" was already used by this caller with a different body; use a new key`, {
      idempotency_key: once.key,
    });
  }
  return JSON.parse(earlier.answer) as A;
}

/** Each event's deliveries, in order: its streams, with id and offset for the stored ones. */
function resultsOf(events: readonly ParsedEvent[], outgoing: readonly Outgoing[], stored: readonly StoredNotification[]): EventResult[] {
  const results: EventResult[] = events.map((event) => ({ type: event.type, stored: event.persist, deliveries: [] }));
  let next = 0;
  for (const o of outgoing) {
    const record = o.persist ? stored[next++] : undefined;
    results[o.event].deliveries.push(record ? { stream: record.stream, id: record.id, offset: record.seq } : { stream: o.stream });
  }
  return results;
}
