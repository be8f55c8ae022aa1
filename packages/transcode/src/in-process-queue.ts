import { InvalidJobError, isTransient, TranscodeCancelledError, WorkerShutdownError } from './errors.js';
import type { TranscodeJob } from './events.js';
import { JobRun, validateJob, type EngineOptions } from './job-runner.js';
import { resolvePresets } from './presets.js';
import { backoffDelay, type RetryOptions, type TranscodeQueue } from './queue.js';

export interface InProcessQueueOptions extends EngineOptions, RetryOptions {
  /** Jobs transcoding at once. Default 1 (ffmpeg already uses every core). */
  concurrency?: number;
}

type EntryState = 'waiting' | 'running' | 'delayed';

interface Entry {
  job: TranscodeJob;
  run: JobRun;
  state: EntryState;
  attempt: number;
  /** Formats finished by earlier attempts: a retry does not redo (or re-report) them. */
  completed: string[];
  controller: AbortController;
  timer?: NodeJS.Timeout;
  /** Settles when a running attempt ends. */
  running?: Promise<void>;
}

/**
 * The embedded queue: jobs live in memory and run in this process, `concurrency` at a
 * time. Transient failures are retried with exponential backoff; a job waiting for its
 * retry does not hold a slot. Jobs do not survive a restart (use BullMqQueue for that).
 *
 * @example
 * const queue = new InProcessQueue({ reporter, outputDir: './data/media', concurrency: 2 });
 * await queue.enqueue({ job_id: 'j1', video_id: 7, title: 'Demo', input: '/uploads/7.mp4', formats: ['h264_720p'] });
 */
export class InProcessQueue implements TranscodeQueue {
  readonly #opts: InProcessQueueOptions;
  readonly #concurrency: number;
  readonly #attempts: number;
  readonly #entries = new Map<string, Entry>();
  readonly #waiting: Entry[] = [];
  #runningCount = 0;
  #closed = false;

  constructor(opts: InProcessQueueOptions) {
    this.#opts = opts;
    this.#concurrency = Math.max(1, opts.concurrency ?? 1);
    this.#attempts = Math.max(1, opts.attempts ?? 3);
  }

  async enqueue(job: TranscodeJob): Promise<void> {
    if (this.#closed) throw new InvalidJobError('transcode queue is closed');
    validateJob(job);
    await resolvePresets(job.formats, this.#opts);
    if (this.#entries.has(job.job_id)) throw new InvalidJobError(`job ${job.job_id} is already queued`);
    const entry: Entry = { job, run: new JobRun(job, this.#opts), state: 'waiting', attempt: 0, completed: [], controller: new AbortController() };
    this.#entries.set(job.job_id, entry);
    await entry.run.queued();
    if (entry.controller.signal.aborted) return; // cancelled while reporting `queued`
    this.#waiting.push(entry);
    this.#pump();
  }

  /** Resolves once the job has stopped and its partial output is gone. */
  async cancel(jobId: string): Promise<boolean> {
    const entry = this.#entries.get(jobId);
    if (!entry) return false;
    entry.controller.abort(new TranscodeCancelledError());
    if (entry.state === 'running') {
      await entry.running;
    } else {
      this.#drop(entry);
      await entry.run.cancelled();
    }
    return true;
  }

  /**
   * Stops taking jobs and stops the running ones without reporting them cancelled: on a
   * shutdown a job is interrupted, not cancelled, and the server queues it again at start.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const running: Promise<void>[] = [];
    for (const entry of [...this.#entries.values()]) {
      entry.controller.abort(new WorkerShutdownError());
      if (entry.state === 'running' && entry.running) running.push(entry.running);
      else this.#drop(entry);
    }
    await Promise.all(running);
  }

  /** Jobs waiting, running or waiting for a retry. */
  get size(): number {
    return this.#entries.size;
  }

  #pump(): void {
    while (this.#runningCount < this.#concurrency && this.#waiting.length > 0) {
      const entry = this.#waiting.shift()!;
      entry.state = 'running';
      this.#runningCount++;
      entry.running = this.#runAttempt(entry).finally(() => {
        this.#runningCount--;
        this.#pump();
      });
    }
  }

  async #runAttempt(entry: Entry): Promise<void> {
    entry.attempt++;
    const { signal } = entry.controller;
    try {
      await entry.run.attempt({ signal, completedFormats: entry.completed, onFormatDone: (f) => void entry.completed.push(f) });
      this.#entries.delete(entry.job.job_id);
    } catch (err) {
      if (signal.aborted && signal.reason instanceof WorkerShutdownError) {
        this.#entries.delete(entry.job.job_id);
      } else if (signal.aborted || err instanceof TranscodeCancelledError) {
        this.#entries.delete(entry.job.job_id);
        await entry.run.cancelled();
      } else if (isTransient(err) && entry.attempt < this.#attempts && !this.#closed) {
        const delay = backoffDelay(entry.attempt, this.#opts.backoffMs ?? 1000, this.#opts.maxBackoffMs ?? 30_000);
        entry.state = 'delayed';
        await entry.run.retrying(err, entry.attempt + 1, delay);
        entry.timer = setTimeout(() => {
          entry.timer = undefined;
          entry.state = 'waiting';
          this.#waiting.push(entry);
          this.#pump();
        }, delay);
      } else {
        this.#entries.delete(entry.job.job_id);
        await entry.run.failed(err);
      }
    }
  }

  #drop(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const i = this.#waiting.indexOf(entry);
    if (i >= 0) this.#waiting.splice(i, 1);
    this.#entries.delete(entry.job.job_id);
  }
}
