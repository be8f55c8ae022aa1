import type { TranscodeProgressDetail, TranscodeStatus } from '@herald/protocol';

/** One transcode job: one input, transcoded to each preset in `formats` in turn. */
export interface TranscodeJob {
  job_id: string;
  video_id: number;
  title: string;
  /** Path of the source file, readable by the worker that runs the job. */
  input: string;
  /** Preset names, e.g. `['h264_720p', 'av1_720p']`. */
  formats: string[];
  /** The uploader, when the notifications should also reach them (not only admins). */
  user_id?: number;
}

/**
 * The structured side of a progress event, for clients that render it in their own language
 * (the Chinese `message` stays, as the specification has it).
 */
export type ProgressDetail = TranscodeProgressDetail;

export interface TranscodeProgressEvent extends ProgressDetail {
  job_id: string;
  video_id: number;
  status: TranscodeStatus;
  /** 0-100 for the whole job, never decreasing for one job. */
  progress: number;
  message: string;
  user_id?: number;
}

export interface TranscodeCompleteEvent {
  job_id: string;
  video_id: number;
  title: string;
  /** The preset name. */
  format_type: string;
  /** Size in bytes of the file written. */
  file_size: number;
  output_path: string;
  user_id?: number;
}

export interface TranscodeFailedEvent {
  job_id: string;
  video_id: number;
  title: string;
  /** Human-readable cause; for ffmpeg failures the tail of its stderr. */
  error: string;
  user_id?: number;
}

/**
 * Where the engine reports what happens to jobs. The server implements it with the
 * NotificationService; tests implement it with a recorder.
 *
 * Ordering per job: progress events never decrease; a format's `complete` follows the
 * progress event that reaches its share; the last progress event before the final
 * `complete` is 100 with status `completed`. `failed` is sent once, when no retry follows.
 */
export interface TranscodeReporter {
  progress(e: TranscodeProgressEvent): Promise<void> | void;
  complete(e: TranscodeCompleteEvent): Promise<void>;
  failed(e: TranscodeFailedEvent): Promise<void>;
}
