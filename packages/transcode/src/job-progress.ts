import type { TranscodeStatus } from '@herald/protocol';
import type { ProgressDetail, TranscodeJob, TranscodeReporter } from './events.js';

export interface JobProgressOptions {
  /** At most one progress tick per this many ms; status changes always go out. Default 500. */
  intervalMs?: number;
  /** Highest progress already reported for this job (by an earlier attempt). */
  floor?: number;
  /** Told each reported value, e.g. to persist it as the floor of a later attempt. */
  onReported?: (progress: number, status: TranscodeStatus) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/**
 * The progress stream of one job: never decreasing, integer percent, ticks throttled to
 * one per interval (trailing tick kept, so the last value inside a quiet window is not
 * lost), status changes sent at once. Reporter calls are chained, so an async reporter
 * sees them in order.
 */
export class JobProgress {
  readonly #job: TranscodeJob;
  readonly #reporter: TranscodeReporter;
  readonly #intervalMs: number;
  readonly #onReported: JobProgressOptions['onReported'];
  readonly #onError: (err: unknown) => void;
  readonly #now: () => number;
  #last: number;
  #lastStatus: TranscodeStatus | undefined;
  #lastAt = Number.NEGATIVE_INFINITY;
  #pending: { progress: number; message: string; detail?: ProgressDetail } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(job: TranscodeJob, reporter: TranscodeReporter, opts: JobProgressOptions = {}) {
    this.#job = job;
    this.#reporter = reporter;
    this.#intervalMs = opts.intervalMs ?? 500;
    this.#last = Math.max(0, Math.floor(opts.floor ?? 0));
    this.#onReported = opts.onReported;
    this.#onError = opts.onError ?? (() => undefined);
    this.#now = opts.now ?? Date.now;
  }

  /** Highest value reported so far. */
  get value(): number {
    return this.#last;
  }

  /** A progress tick while the status stays `processing`; may be delayed or merged. */
  tick(progress: number, message: string, detail?: ProgressDetail): void {
    const p = Math.min(99, Math.floor(progress)); // 100 belongs to the `completed` status change
    if (p <= this.#last || (this.#pending !== undefined && p <= this.#pending.progress)) return;
    const wait = this.#lastAt + this.#intervalMs - this.#now();
    if (wait <= 0 && this.#timer === undefined) {
      this.#send('processing', p, message, detail);
      return;
    }
    this.#pending = { progress: p, message, detail };
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      const pending = this.#pending;
      this.#pending = undefined;
      if (pending && pending.progress > this.#last) this.#send('processing', pending.progress, pending.message, pending.detail);
    }, Math.max(0, wait));
  }

  /** A status change (or a milestone such as a finished format): sent now, drops any pending tick. */
  status(status: TranscodeStatus, progress: number, message: string, detail?: ProgressDetail): Promise<void> {
    this.#dropPending();
    this.#send(status, Math.min(100, Math.floor(progress)), message, detail);
    return this.#chain;
  }

  /** Waits for every reporter call made so far. */
  flush(): Promise<void> {
    return this.#chain;
  }

  /** Drops a pending tick and its timer; the stream stays usable. */
  close(): void {
    this.#dropPending();
  }

  #dropPending(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  #send(status: TranscodeStatus, progress: number, message: string, detail: ProgressDetail = {}): void {
    const p = Math.max(this.#last, progress);
    this.#last = p;
    this.#lastStatus = status;
    this.#lastAt = this.#now();
    const { job_id, video_id, user_id } = this.#job;
    const event = { job_id, video_id, status, progress: p, message, ...detail, ...(user_id === undefined ? {} : { user_id }) };
    this.#onReported?.(p, status);
    this.#chain = this.#chain.then(async () => {
      try {
        await this.#reporter.progress(event);
      } catch (err) {
        this.#onError(err);
      }
    });
  }

  get lastStatus(): TranscodeStatus | undefined {
    return this.#lastStatus;
  }
}
