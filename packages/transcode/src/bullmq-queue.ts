import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import {
  errorMessage,
  FfmpegNotFoundError,
  InvalidJobError,
  isTransient,
  TranscodeCancelledError,
  UnknownPresetError,
  RedisUnavailableError,
  WorkerLostError,
  WorkerShutdownError,
} from './errors.js';
import type { TranscodeJob, TranscodeReporter } from './events.js';
import { checkFfmpeg } from './ffmpeg.js';
import { JobProgress } from './job-progress.js';
import { JobRun, validateJob, type EngineOptions } from './job-runner.js';
import { PRESET_NAMES, resolvePresets } from './presets.js';
import type { RetryOptions, TranscodeQueue } from './queue.js';

/** Where the queue lives in Redis; every producer and worker of one queue must agree. */
export interface BullMqLocation {
  redisUrl: string;
  /** Default `transcode`. */
  queueName?: string;
  /** Key prefix. Default `herald`. */
  prefix?: string;
}

/** Job data in Redis: the job, plus which formats an earlier attempt finished. */
interface StoredJob extends TranscodeJob {
  completed_formats?: string[];
  /** BullMQ's stall count last reported as `retrying`, so each lost worker is reported once. */
  reported_stalls?: number;
}

const JOB_NAME = 'transcode';

function location(loc: BullMqLocation): { name: string; prefix: string } {
  return { name: loc.queueName ?? 'transcode', prefix: loc.prefix ?? 'herald' };
}

/** Pub/sub channel telling workers to abort a running job, and the flag key that covers a worker not yet subscribed. */
function cancelChannel(loc: BullMqLocation): string {
  const { name, prefix } = location(loc);
  return `${prefix}:${name}:cancel`;
}
function cancelKey(loc: BullMqLocation, jobId: string): string {
  return `${cancelChannel(loc)}:${jobId}`;
}

function redis(url: string): Redis {
  // BullMQ requires maxRetriesPerRequest: null on connections that block.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

export interface BullMqQueueOptions extends BullMqLocation, RetryOptions {
  /** Told `queued` on enqueue and `cancelled` when a waiting job is removed. Workers report the rest. */
  reporter?: TranscodeReporter;
  ffmpegPath?: string;
  ffprobePath?: string;
}

/**
 * The cluster queue: jobs are stored in Redis by BullMQ and run by `herald worker`
 * processes (`startWorker`). A job survives the death of its worker: BullMQ's stalled
 * check hands it to another worker, which skips the formats already finished.
 */
export class BullMqQueue implements TranscodeQueue {
  readonly #opts: BullMqQueueOptions;
  readonly #conn: Redis;
  readonly #queue: Queue;

  constructor(opts: BullMqQueueOptions) {
    this.#opts = opts;
    this.#conn = redis(opts.redisUrl);
    this.#conn.on('error', () => undefined); // reconnects on its own; commands report failures
    const { name, prefix } = location(opts);
    this.#queue = new Queue(name, { connection: this.#conn, prefix });
    this.#queue.on('error', () => undefined);
  }

  /** The underlying BullMQ queue, for metrics and admin tools. */
  get queue(): Queue {
    return this.#queue;
  }

  async enqueue(job: TranscodeJob): Promise<void> {
    validateJob(job);
    await this.#checkPresets(job.formats);
    const backoff = this.#opts.backoffMs ?? 1000;
    const existing = await this.#queue.getJob(job.job_id);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'completed' && state !== 'failed') throw new InvalidJobError(`job ${job.job_id} is already queued`);
      await existing.remove(); // a finished job id may run again, as with the in-process queue
    }
    await this.#conn.del(cancelKey(this.#opts, job.job_id)); // a stale cancel of an earlier run with this id
    // Reported before the add: a fast worker's `processing` must not be followed by `queued`.
    const progress = this.#opts.reporter ? new JobProgress(job, this.#opts.reporter, {}) : undefined;
    await progress?.status('queued', 0, '已加入转码队列');
    const data: StoredJob = { ...job };
    try {
      await this.#queue.add(JOB_NAME, data, {
        jobId: job.job_id,
        attempts: Math.max(1, this.#opts.attempts ?? 3),
        backoff: { type: 'exponential', delay: backoff },
        removeOnComplete: { age: 24 * 3600, count: 1000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
    } catch (err) {
      await progress?.status('failed', 0, `转码任务入队失败: ${errorMessage(err)}`);
      throw err;
    }
  }

  /**
   * A waiting job is removed; a running one is told to stop through Redis pub/sub (and a
   * flag key, for a worker that picks it up in between). Resolves before the worker stops.
   */
  async cancel(jobId: string): Promise<boolean> {
    const job = await this.#queue.getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed' || state === 'unknown') return false;
    if (state !== 'active') {
      try {
        await job.remove();
        if (this.#opts.reporter) {
          const floor = typeof job.progress === 'number' ? job.progress : 0;
          await new JobProgress(job.data as TranscodeJob, this.#opts.reporter, { floor }).status('cancelled', floor, '转码已取消');
        }
        return true;
      } catch {
        // Became active (locked) meanwhile: signal the worker instead.
      }
    }
    await this.#conn.set(cancelKey(this.#opts, jobId), '1', 'EX', 24 * 3600);
    await this.#conn.publish(cancelChannel(this.#opts), jobId);
    return true;
  }

  async close(): Promise<void> {
    await this.#queue.close();
    await this.#conn.quit().catch(() => undefined);
  }

  /** A server node may have no ffmpeg (workers do): then only the names are checked. */
  async #checkPresets(formats: readonly string[]): Promise<void> {
    try {
      await resolvePresets(formats, this.#opts);
    } catch (err) {
      if (!(err instanceof FfmpegNotFoundError)) throw err;
      const unknown = formats.filter((f) => !PRESET_NAMES.includes(f));
      if (unknown.length > 0) throw new UnknownPresetError(unknown.join('", "'), PRESET_NAMES);
    }
  }
}

export interface StartWorkerOptions extends BullMqLocation, EngineOptions {
  /** Jobs this process runs at once. Default 1. */
  concurrency?: number;
  /** How long a job's lock lives without renewal: a dead worker's job is retried after about this long. Default 30 s. */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose lock expired. Default 30 s. */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it fails. Default 2. */
  maxStalledCount?: number;
  /** startWorker() fails with RedisUnavailableError when Redis does not answer within this. Default 10 s. */
  startupTimeoutMs?: number;
}

export interface TranscodeWorker {
  readonly worker: Worker;
  close(): Promise<void>;
}

/**
 * Starts a BullMQ worker that runs transcode jobs; the body of `herald worker`.
 * Checks ffmpeg first, so a missing binary is one clear FfmpegNotFoundError here.
 *
 * @example
 * const w = await startWorker({ redisUrl: process.env.REDIS_URL!, concurrency: 2, reporter, outputDir: '/media' });
 * process.on('SIGTERM', () => void w.close());
 */
export async function startWorker(opts: StartWorkerOptions): Promise<TranscodeWorker> {
  await checkFfmpeg(opts);
  const { name, prefix } = location(opts);
  const conn = redis(opts.redisUrl);
  const sub = redis(opts.redisUrl);
  conn.on('error', () => undefined);
  sub.on('error', () => undefined);
  const controllers = new Map<string, AbortController>();
  const channel = cancelChannel(opts);
  sub.on('message', (ch: string, jobId: string) => {
    if (ch === channel) controllers.get(jobId)?.abort(new TranscodeCancelledError());
  });
  const startup = withTimeout(sub.subscribe(channel), opts.startupTimeoutMs ?? 10_000, () => new RedisUnavailableError(opts.redisUrl));
  try {
    await startup;
  } catch (err) {
    sub.disconnect();
    conn.disconnect();
    throw err;
  }

  const processor = async (job: Job<StoredJob>, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const id = job.id!;
    const controller = new AbortController();
    controllers.set(id, controller);
    const onAbort = (): void => controller.abort(new TranscodeCancelledError());
    signal?.addEventListener('abort', onAbort, { once: true });
    const floor = typeof job.progress === 'number' ? job.progress : 0;
    const run = new JobRun(job.data, opts, {
      floor,
      // The highest value reported becomes the floor of a later attempt on another worker.
      onReported: (p) => void job.updateProgress(p).catch(() => undefined),
    });
    try {
      if (await conn.exists(cancelKey(opts, id))) controller.abort(new TranscodeCancelledError());
      // BullMQ took the job back from a worker that stopped renewing its lock (crashed, killed).
      if (job.stalledCounter > (job.data.reported_stalls ?? 0)) {
        await job.updateData({ ...job.data, reported_stalls: job.stalledCounter });
        await run.retrying(new Error(`worker lost (${job.stalledCounter}×)`), job.attemptsMade + 1);
      }
      const completed = [...(job.data.completed_formats ?? [])];
      return await run.attempt({
        signal: controller.signal,
        completedFormats: completed,
        onFormatDone: async (format) => {
          completed.push(format);
          await job.updateData({ ...job.data, completed_formats: completed });
        },
      });
    } catch (caught) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      // A shutdown aborts ffmpeg like a cancel does, but the job must run again elsewhere.
      const err = reason instanceof WorkerShutdownError ? reason : caught;
      if (err instanceof WorkerShutdownError && token) {
        // Back to the queue without using up an attempt.
        await run.retrying(err, job.attemptsMade + 1);
        await job.moveToDelayed(Date.now() + 500, token);
        throw new DelayedError();
      }
      if (controller.signal.aborted || err instanceof TranscodeCancelledError) {
        await run.cancelled();
        await conn.del(cancelKey(opts, id)).catch(() => undefined);
        throw new UnrecoverableError('cancelled');
      }
      const attempts = job.opts.attempts ?? 1;
      if (isTransient(err) && job.attemptsMade + 1 < attempts) {
        const base = typeof job.opts.backoff === 'object' ? (job.opts.backoff.delay ?? 0) : (job.opts.backoff ?? 0);
        await run.retrying(err, job.attemptsMade + 2, base * 2 ** job.attemptsMade);
        throw err;
      }
      await run.failed(err);
      throw new UnrecoverableError(errorMessage(err));
    } finally {
      signal?.removeEventListener('abort', onAbort);
      controllers.delete(id);
    }
  };

  const worker = new Worker<StoredJob>(name, processor, {
    connection: conn,
    prefix,
    concurrency: Math.max(1, opts.concurrency ?? 1),
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
  });
  worker.on('error', (err) => opts.onError?.(err, 'bullmq worker'));
  // A job that lost its worker more than maxStalledCount times is failed by BullMQ in the
  // next worker that picks it up, without calling the processor: report it from here.
  worker.on('failed', (job, err) => {
    if (!job || !/allowable limit/.test(err.message)) return;
    const floor = typeof job.progress === 'number' ? job.progress : 0;
    void new JobRun(job.data, opts, { floor }).failed(new WorkerLostError(err.message)).catch((e: unknown) => opts.onError?.(e, 'report worker lost'));
  });
  await worker.waitUntilReady();

  return {
    worker,
    async close() {
      // close() waits for active jobs: stop their ffmpeg first, as a transient failure,
      // so the job is retried (by another worker) instead of holding up shutdown.
      for (const c of controllers.values()) c.abort(new WorkerShutdownError());
      await worker.close();
      await sub.quit().catch(() => undefined);
      await conn.quit().catch(() => undefined);
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
