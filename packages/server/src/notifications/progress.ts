import { TERMINAL_TRANSCODE_STATUSES, type TranscodeProgressMessage } from '@herald/protocol';

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_TRANSCODE_STATUSES);

interface Entry {
  message: TranscodeProgressMessage & { user_id?: number };
  updatedAt: number;
}

/**
 * The latest progress of every transcode job in flight, per node. Fed from the broker,
 * never from the database: progress is state, not a backlog.
 */
export class ProgressBoard {
  readonly #jobs = new Map<string, Entry>();
  readonly #staleAfterMs: number;

  constructor(staleAfterMs = 10 * 60_000) {
    this.#staleAfterMs = staleAfterMs;
  }

  update(message: TranscodeProgressMessage & { user_id?: number }): void {
    const key = message.job_id ?? `video:${message.video_id}`;
    if (TERMINAL.has(message.status)) {
      this.#jobs.delete(key);
      return;
    }
    const previous = this.#jobs.get(key);
    // Never let a late tick move a job backwards.
    if (previous && previous.message.status === message.status && previous.message.progress > message.progress) return;
    this.#jobs.set(key, { message, updatedAt: Date.now() });
  }

  finish(jobId: string | undefined, videoId: number): void {
    if (jobId) this.#jobs.delete(jobId);
    else this.#jobs.delete(`video:${videoId}`);
  }

  /** Jobs in flight visible to a connection: all for admins, their own for users. */
  snapshot(userId: number, isAdmin: boolean, now = Date.now()): TranscodeProgressMessage[] {
    const result: TranscodeProgressMessage[] = [];
    for (const [key, entry] of this.#jobs) {
      if (now - entry.updatedAt > this.#staleAfterMs) {
        this.#jobs.delete(key);
        continue;
      }
      if (isAdmin || entry.message.user_id === userId) result.push({ ...entry.message, snapshot: true });
    }
    return result;
  }

  /** The latest tick of one job, if it is in flight on this node's view of the cluster. */
  latest(jobId: string): TranscodeProgressMessage | undefined {
    return this.#jobs.get(jobId)?.message;
  }

  get size(): number {
    return this.#jobs.size;
  }
}
