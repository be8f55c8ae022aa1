/**
 * A `herald worker`-like process for tests: runs startWorker() with settings from the
 * environment and writes every reporter call to stdout as a JSON line.
 */
import { startWorker } from '../bullmq-queue.js';
import type { TranscodeReporter } from '../events.js';

function out(e: object): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

const reporter: TranscodeReporter = {
  progress: (e) => out({ kind: 'progress', ...e }),
  complete: async (e) => out({ kind: 'complete', ...e }),
  failed: async (e) => out({ kind: 'failed', ...e }),
};

const env = process.env;
const worker = await startWorker({
  redisUrl: env.REDIS_URL!,
  queueName: env.HERALD_QUEUE,
  prefix: env.HERALD_PREFIX,
  outputDir: env.HERALD_OUTPUT_DIR!,
  reporter,
  realtime: true,
  progressIntervalMs: 50,
  lockDurationMs: Number(env.HERALD_LOCK_MS ?? 2000),
  stalledIntervalMs: Number(env.HERALD_STALLED_MS ?? 500),
});
out({ kind: 'ready', pid: process.pid });
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
