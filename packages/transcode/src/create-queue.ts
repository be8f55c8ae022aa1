import { BullMqQueue } from './bullmq-queue.js';
import type { TranscodeReporter } from './events.js';
import { InProcessQueue } from './in-process-queue.js';
import type { RetryOptions, TranscodeQueue } from './queue.js';

export interface TranscodeQueueConfig extends RetryOptions {
  reporter: TranscodeReporter;
  /** Set: jobs go to BullMQ on this Redis and `herald worker` processes run them. Unset: in-process. */
  redisUrl?: string;
  /** Where the in-process queue writes outputs (workers take theirs from their own config). */
  outputDir: string;
  /** In-process concurrency. Default 1. */
  concurrency?: number;
  queueName?: string;
  prefix?: string;
  progressIntervalMs?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  onError?: (err: unknown, context: string) => void;
}

/**
 * Picks the queue once at start-up: BullMQ when REDIS_URL is configured, else in-process.
 *
 * @example
 * const queue = createTranscodeQueue({ reporter, redisUrl: config.redisUrl, outputDir: join(config.dataDir, 'media') });
 */
export function createTranscodeQueue(cfg: TranscodeQueueConfig): TranscodeQueue {
  if (cfg.redisUrl) {
    return new BullMqQueue({ ...cfg, redisUrl: cfg.redisUrl });
  }
  return new InProcessQueue(cfg);
}
