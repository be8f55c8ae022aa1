import type { TranscodeJob } from './events.js';

/**
 * Where jobs wait for a worker. Two implementations, chosen once from configuration:
 * `InProcessQueue` (embedded default) and `BullMqQueue` (Redis, `herald worker` processes).
 */
export interface TranscodeQueue {
  /** Accepts a job; rejects with UnknownPresetError / InvalidJobError (HTTP 400) before queueing. */
  enqueue(job: TranscodeJob): Promise<void>;
  /** Cancels a waiting or running job; false when no such job is waiting or running. */
  cancel(jobId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Retry policy shared by both queues: how often, and how long to wait between attempts. */
export interface RetryOptions {
  /** Attempts in total, first included. Default 3. */
  attempts?: number;
  /** First backoff delay; doubles on each retry. Default 1000 ms. */
  backoffMs?: number;
  /** Upper bound of one backoff delay. Default 30 s. */
  maxBackoffMs?: number;
}

/**
 * Exponential backoff with full jitter: a random delay in [base/2, base * 2^(retry-1)]
 * capped at `max`. `retry` counts from 1. Pure apart from `random`.
 */
export function backoffDelay(retry: number, base: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, retry - 1));
  const floor = Math.min(ceiling, base / 2);
  return Math.round(floor + random() * (ceiling - floor));
}
