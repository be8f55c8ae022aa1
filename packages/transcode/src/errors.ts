import { ErrorCode } from '@herald/protocol';

/**
 * Errors of the transcode package. Each has a stable `code` from `ErrorCode` in
 * @herald/protocol (the HTTP plugin maps codes to statuses in one place, `httpStatusOf`),
 * and `transient`, which decides whether a queue retries the job: only failures that say
 * nothing about the input (ffmpeg killed by a signal, spawn out of resources, worker lost)
 * are retried.
 */
export class TranscodeError extends Error {
  readonly code: ErrorCode;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, opts: { transient?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TranscodeError';
    this.code = code;
    this.transient = opts.transient ?? false;
  }
}

/** A preset name that does not exist or whose encoder this ffmpeg build lacks. */
export class UnknownPresetError extends TranscodeError {
  readonly preset: string;
  readonly available: readonly string[];

  constructor(preset: string, available: readonly string[], reason = 'unknown preset') {
    super(ErrorCode.TRANSCODE_UNKNOWN_PRESET, `${reason} "${preset}"; available presets: ${available.join(', ') || '(none)'}`);
    this.name = 'UnknownPresetError';
    this.preset = preset;
    this.available = available;
  }
}

/** The input cannot be read as a video (not media at all, audio only, or missing). */
export class NotAVideoError extends TranscodeError {
  readonly file: string;

  constructor(file: string, detail: string) {
    super(ErrorCode.TRANSCODE_NOT_A_VIDEO, `not a video: ${detail}`);
    this.name = 'NotAVideoError';
    this.file = file;
  }
}

/** The ffmpeg or ffprobe binary cannot be run. Raised at start-up by `checkFfmpeg()`. */
export class FfmpegNotFoundError extends TranscodeError {
  readonly binary: string;

  constructor(binary: string, cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    super(
      ErrorCode.TRANSCODE_FFMPEG_NOT_FOUND,
      `cannot run "${binary}"${why}; install ffmpeg or set FFMPEG_PATH / FFPROBE_PATH`,
      { cause },
    );
    this.name = 'FfmpegNotFoundError';
    this.binary = binary;
  }
}

/** ffmpeg ran and failed. `stderrTail` holds the last lines it wrote. */
export class FfmpegFailedError extends TranscodeError {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderrTail: string;
  /** One line: how ffmpeg ended and its last stderr line, for progress messages. */
  readonly summary: string;

  constructor(exitCode: number | null, signal: NodeJS.Signals | null, stderrTail: string, transient: boolean) {
    const how = signal ? `FFmpeg process was killed by ${signal}` : `FFmpeg process exited with code ${exitCode}`;
    super(ErrorCode.TRANSCODE_FFMPEG_FAILED, stderrTail ? `${how}: ${stderrTail}` : how, { transient });
    this.name = 'FfmpegFailedError';
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
    const last = stderrTail.trimEnd().split('\n').at(-1) ?? '';
    this.summary = last ? `${how}: ${last}` : how;
  }
}

/** ffmpeg could not be started for a reason that may pass (EAGAIN, EMFILE, ENOMEM). */
export class FfmpegSpawnError extends TranscodeError {
  constructor(binary: string, cause: NodeJS.ErrnoException) {
    const transient = ['EAGAIN', 'EMFILE', 'ENFILE', 'ENOMEM'].includes(cause.code ?? '');
    super(ErrorCode.TRANSCODE_SPAWN, `cannot start "${binary}": ${cause.message}`, { transient, cause });
    this.name = 'FfmpegSpawnError';
  }
}

/** The job was cancelled (by `queue.cancel()`, or the queue closing). */
export class TranscodeCancelledError extends TranscodeError {
  constructor(reason = 'cancelled') {
    super(ErrorCode.TRANSCODE_CANCELLED, reason);
    this.name = 'TranscodeCancelledError';
  }
}

/** The worker is shutting down; the job goes back to the queue for another attempt. */
export class WorkerShutdownError extends TranscodeError {
  constructor() {
    super(ErrorCode.TRANSCODE_SHUTDOWN, 'worker shutting down', { transient: true });
    this.name = 'WorkerShutdownError';
  }
}

/** Workers died holding the job more often than allowed (`maxStalledCount`). */
export class WorkerLostError extends TranscodeError {
  constructor(detail: string) {
    super(ErrorCode.TRANSCODE_WORKER_LOST, `transcode worker lost: ${detail}`);
    this.name = 'WorkerLostError';
  }
}

/** The queue's Redis does not answer (worker start-up). */
export class RedisUnavailableError extends TranscodeError {
  constructor(redisUrl: string) {
    // Only host and port: the URL may carry a password.
    let where = 'REDIS_URL';
    try {
      const u = new URL(redisUrl);
      where = `${u.hostname}:${u.port || '6379'}`;
    } catch {
      /* keep the variable name */
    }
    super(ErrorCode.TRANSCODE_REDIS_UNAVAILABLE, `Redis at ${where} does not answer`);
    this.name = 'RedisUnavailableError';
  }
}

/** A job description that cannot be processed (missing fields, no formats). */
export class InvalidJobError extends TranscodeError {
  constructor(message: string) {
    super(ErrorCode.TRANSCODE_INVALID_JOB, message);
    this.name = 'InvalidJobError';
  }
}

export function isTransient(err: unknown): boolean {
  return err instanceof TranscodeError && err.transient;
}

/** A one-line account of `err` for progress messages (the full text goes to `transcode_failed`). */
export function errorSummary(err: unknown): string {
  if (err instanceof FfmpegFailedError) return err.summary;
  return errorMessage(err).split('\n', 1)[0] ?? '';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
