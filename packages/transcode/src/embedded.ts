import type { Logger } from 'pino';
import { createTranscodeQueue } from './create-queue.js';
import { checkFfmpeg } from './ffmpeg.js';
import type { TranscodePublisher } from './publisher.js';
import type { TranscodeQueue } from './queue.js';
import { PublishingReporter } from './reporter.js';
import { VideoService, type LiveProgress } from './service.js';
import { VideoStore } from './store/video-store.js';

export interface TranscoderOptions {
  /** The host's database: a SQLite file path or a `postgres://` URL (this package's tables go there). */
  database: string;
  publisher: TranscodePublisher;
  /** Where uploads are kept. */
  uploadDir: string;
  /** Where the in-process queue writes outputs. */
  mediaDir: string;
  /** Set: jobs go to BullMQ and `herald worker` processes run them. Unset: in-process. */
  redisUrl?: string;
  /** BullMQ key prefix. */
  prefix?: string;
  concurrency?: number;
  liveProgress?: (jobId: string) => LiveProgress | undefined;
  /** Use this queue instead of one from the options (not closed by `close()`). */
  queue?: TranscodeQueue;
  log: Logger;
}

/** The transcoder as a host embeds it: the service behind the HTTP plugin, and its parts. */
export interface Transcoder {
  videos: VideoService;
  store: VideoStore;
  queue: TranscodeQueue;
  close(): Promise<void>;
}

/**
 * Opens the tables, picks the queue (BullMQ when `redisUrl` is set, else in-process) and,
 * in-process, queues again the jobs a restart interrupted.
 *
 * @example
 * const transcoder = await startTranscoder({ database, publisher: inProcessPublisher(send), uploadDir, mediaDir, log });
 * await app.register(videoRoutes, { videos: transcoder.videos, authorize, userIdOf, maxUploadBytes });
 */
export async function startTranscoder(options: TranscoderOptions): Promise<Transcoder> {
  const { log } = options;
  const store = await VideoStore.open(options.database);
  const queue =
    options.queue ??
    createTranscodeQueue({
      reporter: new PublishingReporter(store, options.publisher),
      redisUrl: options.redisUrl,
      prefix: options.prefix,
      outputDir: options.mediaDir,
      concurrency: options.concurrency,
      onError: (err, context) => log.warn({ err, context }, 'transcode reporter failed'),
    });
  if (!options.redisUrl && !options.queue) {
    await checkFfmpeg().catch((err: Error) => log.warn(`transcoding unavailable until ffmpeg is installed: ${err.message}`));
    for (const job of await store.unfinishedJobs()) {
      const video = await store.findVideo(job.video_id);
      if (!video) continue;
      log.info({ job_id: job.job_id, video_id: job.video_id }, 're-queueing a transcode interrupted by a restart');
      await queue.enqueue({ job_id: job.job_id, video_id: video.id, title: video.title, input: video.path, formats: job.formats }).catch((err) => log.warn({ err }, 'could not re-queue'));
    }
  }
  const videos = new VideoService(store, queue, { uploadDir: options.uploadDir, liveProgress: options.liveProgress }, log);
  return {
    videos,
    store,
    queue,
    async close() {
      if (!options.queue) await queue.close().catch(() => undefined);
      await store.close();
    },
  };
}
