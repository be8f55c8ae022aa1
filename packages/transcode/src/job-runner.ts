import { stat } from 'node:fs/promises';
import type { TranscodeStatus } from '@herald/protocol';
import { errorMessage, errorSummary, InvalidJobError, TranscodeCancelledError } from './errors.js';
import type { TranscodeJob, TranscodeReporter } from './events.js';
import type { FfmpegBinaries } from './ffmpeg.js';
import { JobProgress } from './job-progress.js';
import { resolvePresets } from './presets.js';
import { probe } from './probe.js';
import { outputPathFor, transcodeFile } from './transcode-file.js';

/** What a queue needs to run jobs; shared by the in-process queue and the BullMQ worker. */
export interface EngineOptions extends FfmpegBinaries {
  reporter: TranscodeReporter;
  /** Outputs go to `<outputDir>/<video_id>/<preset>.mp4`. */
  outputDir: string;
  /** At most one progress tick per job per this many ms (status changes always go out). Default 500. */
  progressIntervalMs?: number;
  /** Read inputs at native frame rate (`-re`), so jobs last as long as the video: demos and tests. */
  realtime?: boolean;
  /** Reporter failures are logged here, never allowed to fail a transcode. */
  onError?: (err: unknown, context: string) => void;
}

export interface FormatResult {
  format: string;
  outputPath: string;
  fileSize: number;
}

export interface AttemptOptions {
  signal?: AbortSignal;
  /** Formats finished by an earlier attempt; skipped when their output still exists. */
  completedFormats?: readonly string[];
  /** Told each finished format, e.g. to persist it for a later attempt. */
  onFormatDone?: (format: string) => Promise<void> | void;
}

export function validateJob(job: TranscodeJob): void {
  if (typeof job.job_id !== 'string' || job.job_id === '') throw new InvalidJobError('job_id is required');
  if (!Number.isSafeInteger(job.video_id) || job.video_id < 0) throw new InvalidJobError('video_id must be a non-negative integer');
  if (typeof job.input !== 'string' || job.input === '') throw new InvalidJobError('input is required');
  if (!Array.isArray(job.formats) || job.formats.length === 0) throw new InvalidJobError('formats must name at least one preset');
}

/**
 * Presets above the source's height are skipped: ffmpeg does not upscale, so they would be
 * copies of a smaller one. When every requested preset is above the source, the lowest one
 * is kept (encoded at the source's size), so that the job still yields one playable file.
 * A source whose height is unknown (0) keeps every preset.
 */
export function splitBySource<P extends { height: number }>(presets: readonly P[], sourceHeight: number): { presets: P[]; skipped: P[] } {
  if (!(sourceHeight > 0)) return { presets: [...presets], skipped: [] };
  let kept = presets.filter((p) => p.height <= sourceHeight);
  if (kept.length === 0 && presets.length > 0) kept = [presets.reduce((low, p) => (p.height < low.height ? p : low))];
  return { presets: kept, skipped: presets.filter((p) => !kept.includes(p)) };
}

function summary(err: unknown, max = 200): string {
  const line = errorSummary(err);
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * The life of one job across its attempts: runs the formats in turn, and turns the
 * outcome of each attempt into reporter calls. A queue owns the retry decision and
 * calls `retrying()`, `failed()` or `cancelled()`.
 */
export class JobRun {
  readonly job: TranscodeJob;
  readonly #opts: EngineOptions;
  readonly #progress: JobProgress;

  constructor(job: TranscodeJob, opts: EngineOptions, progress: { floor?: number; onReported?: (p: number, s: TranscodeStatus) => void } = {}) {
    this.job = job;
    this.#opts = opts;
    this.#progress = new JobProgress(job, opts.reporter, {
      intervalMs: opts.progressIntervalMs,
      floor: progress.floor,
      onReported: progress.onReported,
      onError: (err) => this.#onError(err, 'reporter.progress'),
    });
  }

  get progress(): number {
    return this.#progress.value;
  }

  queued(message = '已加入转码队列'): Promise<void> {
    return this.#progress.status('queued', 0, message);
  }

  /** One attempt at the whole job. Throws on failure; reports only progress and completions. */
  async attempt(a: AttemptOptions = {}): Promise<FormatResult[]> {
    const { job } = this;
    const { signal } = a;
    validateJob(job);
    const requested = await resolvePresets(job.formats, this.#opts);
    await this.#progress.status('processing', 0, `正在分析视频 (0/${requested.length})`, { step: 0, steps: requested.length });
    const info = await probe(job.input, this.#opts);
    const { presets, skipped } = splitBySource(requested, info.height);
    const n = presets.length;
    const source = { source_width: info.width, source_height: info.height };
    const results: FormatResult[] = [];
    if (skipped.length > 0) {
      const labels = skipped.map((p) => p.label);
      const detail = { step: 0, steps: n, skipped: labels, ...source };
      const note = `已跳过 ${labels.join('、')}:源视频为 ${info.width}×${info.height}`;
      await this.#progress.status('processing', 0, note, detail);
    }
    const extra = skipped.length > 0 ? { skipped: skipped.map((p) => p.label), ...source } : {};
    try {
      for (const [k, preset] of presets.entries()) {
        if (signal?.aborted) throw new TranscodeCancelledError();
        const counter = `(${k + 1}/${n})`;
        const isLast = k + 1 === n;
        const done = ((k + 1) / n) * 100;
        const previous = a.completedFormats?.includes(preset.name) ? await this.#existing(preset) : undefined;
        if (previous) {
          results.push({ format: preset.name, ...previous });
          if (isLast) await this.#progress.status('completed', 100, `已完成${preset.label}转码 ${counter}`, { format: preset.label, step: k + 1, steps: n, ...extra });
          continue; // its complete event went out in the earlier attempt
        }
        const message = `正在转码 ${preset.label} ${counter}`;
        const detail = { format: preset.label, step: k + 1, steps: n };
        await this.#progress.status('processing', (k / n) * 100, message, detail);
        const out = await transcodeFile({
          ...this.#opts,
          input: job.input,
          outputDir: this.#opts.outputDir,
          videoId: job.video_id,
          preset,
          durationSec: info.duration,
          signal,
          tempTag: job.job_id,
          onProgress: (f) => this.#progress.tick(((k + f) / n) * 100, message, detail),
        });
        results.push({ format: preset.name, ...out });
        await this.#progress.status(isLast ? 'completed' : 'processing', done, `已完成${preset.label}转码 ${counter}`, isLast ? { ...detail, ...extra } : detail);
        await this.#opts.reporter
          .complete({
            job_id: job.job_id,
            video_id: job.video_id,
            title: job.title,
            format_type: preset.name,
            file_size: out.fileSize,
            output_path: out.outputPath,
            ...(job.user_id === undefined ? {} : { user_id: job.user_id }),
          })
          .catch((err: unknown) => this.#onError(err, 'reporter.complete'));
        await a.onFormatDone?.(preset.name);
      }
    } finally {
      this.#progress.close();
    }
    return results;
  }

  /** The attempt failed and another follows after `delayMs`. */
  retrying(err: unknown, nextAttempt: number, delayMs?: number): Promise<void> {
    const when = delayMs && delayMs > 0 ? `,${Math.ceil(delayMs / 1000)}秒后` : '';
    return this.#progress.status('retrying', this.progress, `转码中断${when}第${nextAttempt}次尝试: ${summary(err)}`);
  }

  /** The job failed for good: a `failed` progress status, then the `transcode_failed` event. */
  async failed(err: unknown): Promise<void> {
    const error = errorMessage(err);
    await this.#progress.status('failed', this.progress, `转码失败: ${summary(err)}`);
    const { job } = this;
    await this.#opts.reporter
      .failed({
        job_id: job.job_id,
        video_id: job.video_id,
        title: job.title,
        error,
        ...(job.user_id === undefined ? {} : { user_id: job.user_id }),
      })
      .catch((e: unknown) => this.#onError(e, 'reporter.failed'));
  }

  cancelled(message = '转码已取消'): Promise<void> {
    return this.#progress.status('cancelled', this.progress, message);
  }

  async #existing(preset: { name: string; extension: 'mp4' }): Promise<{ outputPath: string; fileSize: number } | undefined> {
    const outputPath = outputPathFor(this.#opts.outputDir, this.job.video_id, preset);
    try {
      return { outputPath, fileSize: (await stat(outputPath)).size };
    } catch {
      return undefined;
    }
  }

  #onError(err: unknown, context: string): void {
    (this.#opts.onError ?? defaultOnError)(err, context);
  }
}

function defaultOnError(err: unknown, context: string): void {
  process.emitWarning(`transcode ${context} failed: ${errorMessage(err)}`);
}
