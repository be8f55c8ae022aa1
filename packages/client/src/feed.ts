import type {
  CustomEventMessage,
  SystemMessage,
  TranscodeCompleteMessage,
  TranscodeFailedMessage,
  TranscodeProgressDetail,
  TranscodeProgressMessage,
} from '@herald/protocol';
import type { HeraldClient } from './client.js';

/** A notification as kept in the recent list. */
export type FeedNotification = TranscodeCompleteMessage | TranscodeFailedMessage | SystemMessage | CustomEventMessage;

/** Latest known transcode state of one video. */
export interface TranscodeProgressEntry extends TranscodeProgressDetail {
  video_id: number;
  /** The job the entry belongs to, when the server names it. */
  job_id?: string;
  status: string;
  progress: number;
  message: string;
  timestamp: string;
}

export interface FeedSnapshot {
  /** Most recent first, at most `limit` entries. */
  notifications: readonly FeedNotification[];
  /** By `video_id`; completed and failed jobs stay with progress 100 / their last value. */
  transcodeProgress: ReadonlyMap<number, TranscodeProgressEntry>;
}

/**
 * Framework-free view over a client's messages: the recent notifications and the latest
 * progress per video, as an immutable snapshot with `subscribe`/`getSnapshot` for
 * `useSyncExternalStore`. Call `dispose()` to detach from the client.
 *
 * @example
 * const feed = new NotificationFeed(client, { limit: 20 });
 * feed.subscribe(() => render(feed.getSnapshot().transcodeProgress.get(42)));
 */
export class NotificationFeed {
  #snapshot: FeedSnapshot = { notifications: [], transcodeProgress: new Map() };
  readonly #listeners = new Set<() => void>();
  readonly #off: Array<() => void>;
  readonly #limit: number;

  constructor(client: HeraldClient, options: { limit?: number } = {}) {
    this.#limit = options.limit ?? 50;
    this.#off = [
      client.on('transcode_progress', (m) => this.#progress(m)),
      client.on('transcode_complete', (m) => {
        // Herald completes a job once per format and ends it with a `completed` progress tick;
        // producers that send only `transcode_complete` (the specification's) end it here.
        const current = this.#snapshot.transcodeProgress.get(m.video_id);
        const sameJobRunning = m.job_id !== undefined && current?.job_id === m.job_id && current.status !== 'completed';
        if (!sameJobRunning) this.#progress({ video_id: m.video_id, job_id: m.job_id, status: 'completed', progress: 100, message: m.title, timestamp: m.timestamp });
        this.#add(m);
      }),
      client.on('transcode_failed', (m) => {
        const previous = this.#snapshot.transcodeProgress.get(m.video_id)?.progress ?? 0;
        this.#progress({ video_id: m.video_id, job_id: m.job_id, status: 'failed', progress: previous, message: m.error, timestamp: m.timestamp });
        this.#add(m);
      }),
      client.on('system_message', (m) => this.#add(m)),
      // Stored custom events are notifications like the others; ephemeral ones (no offset) are not kept.
      client.on('event', (e) => {
        if (typeof e.offset === 'number') this.#add(e);
      }),
    ];
  }

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  };

  getSnapshot = (): FeedSnapshot => this.#snapshot;

  /** Detaches from the client and drops listeners. */
  dispose(): void {
    for (const off of this.#off) off();
    this.#listeners.clear();
  }

  #progress(m: TranscodeProgressEntry | TranscodeProgressMessage): void {
    const map = new Map(this.#snapshot.transcodeProgress);
    const { format, step, steps, skipped, source_width, source_height } = m;
    const detail = Object.fromEntries(Object.entries({ format, step, steps, skipped, source_width, source_height }).filter(([, v]) => v !== undefined));
    map.set(m.video_id, { video_id: m.video_id, job_id: m.job_id, status: m.status, progress: m.progress, message: m.message, timestamp: m.timestamp, ...detail });
    this.#set({ ...this.#snapshot, transcodeProgress: map });
  }

  #add(m: FeedNotification): void {
    this.#set({ ...this.#snapshot, notifications: [m, ...this.#snapshot.notifications].slice(0, this.#limit) });
  }

  #set(next: FeedSnapshot): void {
    this.#snapshot = next;
    for (const listener of [...this.#listeners]) listener();
  }
}
