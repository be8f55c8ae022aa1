import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, type TranscodeStatus } from '@herald/protocol';
import type { Logger } from 'pino';
import { NotAVideoError, TranscodeError } from './errors.js';
import { availablePresets, PRESET_NAMES, resolvePreset } from './presets.js';
import { probe } from './probe.js';
import type { TranscodeQueue } from './queue.js';
import { isTerminalStatus } from './reporter.js';
import type { TranscodeJobRow, Video, VideoStore } from './store/video-store.js';

/** A video with the state of its latest transcode job, as the API returns it. */
export interface VideoView extends Omit<Video, 'path' | 'created_by'> {
  status: string;
  progress: number;
  message: string;
  job_id: string | null;
  formats: string[];
  outputs: TranscodeJobRow['outputs'];
  error: string | null;
}

export interface TranscodeStatusView {
  video_id: number;
  job_id: string | null;
  status: string;
  progress: number;
  message: string;
  formats: string[];
  outputs: TranscodeJobRow['outputs'];
  error: string | null;
}

/** The latest pushed progress of a job in flight, as the host's delivery side saw it. */
export interface LiveProgress {
  status: TranscodeStatus | string;
  progress: number;
  message: string;
}

export interface VideoServiceOptions {
  uploadDir: string;
  /**
   * The latest tick of a job (ticks are not written to the job row). Embedded, the host
   * passes its progress board; without it the row's last status change is shown.
   */
  liveProgress?: (jobId: string) => LiveProgress | undefined;
}

/** Videos, uploads and transcode jobs: the producing side of the transcode notifications. */
export class VideoService {
  readonly #store: VideoStore;
  readonly #queue: TranscodeQueue;
  readonly #options: VideoServiceOptions;
  readonly #log: Logger;

  constructor(store: VideoStore, queue: TranscodeQueue, options: VideoServiceOptions, log: Logger) {
    this.#store = store;
    this.#queue = queue;
    this.#options = options;
    this.#log = log;
  }

  /** The videos and jobs tables (tests, operators' tools). */
  get store(): VideoStore {
    return this.#store;
  }

  async presets(): Promise<Array<{ name: string; label: string; available: boolean }>> {
    const available = new Set(await availablePresets().catch(() => [] as string[]));
    return PRESET_NAMES.map((name) => ({ name, label: name.replace(/^(h264|av1)_/, (_m, codec: string) => (codec === 'av1' ? 'AV1 ' : 'H.264 ')), available: available.has(name) }));
  }

  /** Stores an uploaded file and keeps it only if ffprobe finds a video stream in it. */
  async upload(file: Readable & { truncated?: boolean }, filename: string, title: string | undefined, userId: number): Promise<VideoView> {
    await mkdir(this.#options.uploadDir, { recursive: true });
    const ext = extname(filename).toLowerCase().replace(/[^.a-z0-9]/g, '').slice(0, 8) || '.bin';
    const path = join(this.#options.uploadDir, `${randomUUID()}${ext}`);
    try {
      await pipeline(file, createWriteStream(path));
      if (file.truncated) throw new TranscodeError(ErrorCode.TOO_LARGE, 'the file is larger than MAX_UPLOAD_BYTES');
      const info = await probe(path);
      const size = (await stat(path)).size;
      const video = await this.#store.createVideo({
        title: (title?.trim() || filename.replace(/\.[^.]+$/, '') || 'untitled').slice(0, 200),
        path,
        duration: info.duration,
        width: info.width,
        height: info.height,
        size,
        created_by: userId,
      });
      return this.#view(video, undefined);
    } catch (error) {
      await rm(path, { force: true });
      if (error instanceof NotAVideoError) throw new TranscodeError(ErrorCode.NOT_A_VIDEO, error.message);
      throw error;
    }
  }

  async list(): Promise<VideoView[]> {
    const videos = await this.#store.listVideos();
    const jobs = await this.#store.latestJobs(videos.map((v) => v.id));
    return videos.map((video) => this.#view(video, jobs.get(video.id)));
  }

  async get(id: number): Promise<VideoView> {
    const video = await this.#video(id);
    const jobs = await this.#store.latestJobs([id]);
    return this.#view(video, jobs.get(id));
  }

  async transcode(videoId: number, formats: string[]): Promise<{ job_id: string; video_id: number; formats: string[] }> {
    const video = await this.#video(videoId);
    const unique = [...new Set(formats)];
    for (const name of unique) await resolvePreset(name);
    const running = (await this.#store.latestJobs([videoId])).get(videoId);
    if (running && !isTerminalStatus(running.status)) {
      throw new TranscodeError(ErrorCode.CONFLICT, `video ${videoId} already has a transcode in progress (job ${running.job_id})`);
    }
    const jobId = randomUUID();
    await this.#store.createJob(jobId, videoId, unique, 'queued');
    try {
      await this.#queue.enqueue({ job_id: jobId, video_id: videoId, title: video.title, input: video.path, formats: unique });
    } catch (error) {
      await this.#store.updateJob(jobId, { status: 'failed', error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    this.#log.info({ video_id: videoId, job_id: jobId, formats: unique }, 'transcode queued');
    return { job_id: jobId, video_id: videoId, formats: unique };
  }

  async cancel(videoId: number): Promise<{ cancelled: boolean }> {
    await this.#video(videoId);
    const job = (await this.#store.latestJobs([videoId])).get(videoId);
    if (!job || isTerminalStatus(job.status)) return { cancelled: false };
    const cancelled = await this.#queue.cancel(job.job_id);
    if (cancelled) await this.#store.updateJob(job.job_id, { status: 'cancelled' });
    return { cancelled };
  }

  async status(videoId: number): Promise<TranscodeStatusView> {
    const { id, job_id, status, progress, message, formats, outputs, error } = await this.get(videoId);
    return { video_id: id, job_id, status, progress, message, formats, outputs, error };
  }

  async #video(id: number): Promise<Video> {
    const video = await this.#store.findVideo(id);
    if (!video) throw new TranscodeError(ErrorCode.NOT_FOUND, `video ${id} not found`);
    return video;
  }

  /** Merges the job row (status changes) with the latest pushed tick (progress). */
  #view(video: Video, job: TranscodeJobRow | undefined): VideoView {
    const { path: _path, created_by: _by, ...rest } = video;
    const tick = job && !isTerminalStatus(job.status) ? this.#options.liveProgress?.(job.job_id) : undefined;
    return {
      ...rest,
      status: tick?.status ?? job?.status ?? 'uploaded',
      progress: Math.max(tick?.progress ?? 0, job?.progress ?? 0),
      message: tick?.message ?? job?.message ?? '',
      job_id: job?.job_id ?? null,
      formats: job?.formats ?? [],
      outputs: job?.outputs ?? [],
      error: job?.error ?? null,
    };
  }
}
