import type { Logger } from 'pino';
import { startWorker, type TranscodeWorker } from './bullmq-queue.js';
import { HttpPublisher, type TranscodePublisher } from './publisher.js';
import { PublishingReporter } from './reporter.js';
import { VideoStore } from './store/video-store.js';

export interface WorkerConfig {
  /** REDIS_URL: the BullMQ queue the Herald nodes fill. */
  redisUrl: string;
  /** BullMQ key prefix; the nodes' `${REDIS_PREFIX}herald`. */
  prefix?: string;
  concurrency?: number;
  /** MEDIA_DIR: where outputs are written. */
  mediaDir: string;
  /** DATABASE_URL (or the nodes' SQLite file): job rows are updated here. */
  database: string;
  /** HERALD_URL: a Herald node (or the load balancer in front of them). */
  heraldUrl: string;
  /** HERALD_SERVICE_KEY of the nodes. */
  serviceKey: string;
  log: Logger;
  /** Instead of the HTTP publisher built from heraldUrl and serviceKey. */
  publisher?: TranscodePublisher;
}

export interface RunningWorker {
  /** Stops taking jobs, hands running ones back to the queue, closes the database. */
  close(): Promise<void>;
}

/**
 * `herald worker`: runs jobs from the BullMQ queue and publishes what happens to Herald
 * over HTTP (`POST /api/v1/events` with the service key), like any outside producer.
 */
export async function runWorker(config: WorkerConfig): Promise<RunningWorker> {
  const { log } = config;
  const store = await VideoStore.open(config.database);
  const publisher = config.publisher ?? new HttpPublisher({ url: config.heraldUrl, serviceKey: config.serviceKey });
  let worker: TranscodeWorker;
  try {
    worker = await startWorker({
      redisUrl: config.redisUrl,
      prefix: config.prefix,
      concurrency: config.concurrency,
      outputDir: config.mediaDir,
      reporter: new PublishingReporter(store, publisher),
      onError: (err, context) => log.warn({ err, context }, 'transcode reporter failed'),
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  log.info({ concurrency: config.concurrency ?? 1, herald: config.heraldUrl }, 'transcode worker started');
  return {
    async close() {
      await worker.close();
      await store.close();
    },
  };
}
