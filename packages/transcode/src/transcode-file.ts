import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidJobError } from './errors.js';
import { runFfmpeg, type FfmpegBinaries } from './ffmpeg.js';
import type { Preset } from './presets.js';

export interface TranscodeFileOptions extends FfmpegBinaries {
  input: string;
  outputDir: string;
  videoId: number;
  preset: Preset;
  /** Input duration in seconds (from probe), for the progress fraction. */
  durationSec: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Read the input at its native frame rate (`-re`): for demos and tests that need a job to last. */
  realtime?: boolean;
  /** Names the temporary file (the job id), so a retry can remove what a dead attempt left. */
  tempTag?: string;
}

export interface TranscodeFileResult {
  outputPath: string;
  fileSize: number;
}

/** `<outputDir>/<video_id>/<preset>.<ext>` */
export function outputPathFor(outputDir: string, videoId: number, preset: Pick<Preset, 'name' | 'extension'>): string {
  return join(resolve(outputDir), String(videoId), `${preset.name}.${preset.extension}`);
}

/**
 * Transcodes one input to one preset. ffmpeg writes a hidden temporary file beside the
 * target, renamed over it only on success, so readers never see a half-written file and
 * a failure or cancel leaves nothing behind.
 */
export async function transcodeFile(opts: TranscodeFileOptions): Promise<TranscodeFileResult> {
  if (!Number.isSafeInteger(opts.videoId) || opts.videoId < 0) throw new InvalidJobError(`invalid video_id ${opts.videoId}`);
  const outputPath = outputPathFor(opts.outputDir, opts.videoId, opts.preset);
  const dir = join(resolve(opts.outputDir), String(opts.videoId));
  await mkdir(dir, { recursive: true });
  const stem = `.${opts.preset.name}.${(opts.tempTag ?? 'x').replace(/[^\w-]/g, '_').slice(0, 64)}.`;
  await removeStale(dir, stem);
  const tmpPath = join(dir, `${stem}${randomUUID().slice(0, 8)}.part`);
  // `file:` stops ffmpeg from reading a path as a protocol URL or an option.
  const args = [
    '-y',
    ...(opts.realtime ? ['-re'] : []),
    // Nothing but local files, even if a container names other resources.
    '-protocol_whitelist', 'file',
    '-i', `file:${resolve(opts.input)}`,
    ...opts.preset.outputArgs,
    `file:${tmpPath}`,
  ];
  try {
    await runFfmpeg(args, {
      ...opts,
      redact: [
        [`file:${resolve(opts.input)}`, '<input>'],
        [resolve(opts.input), '<input>'],
        [`file:${tmpPath}`, '<output>'],
        [tmpPath, '<output>'],
      ],
    });
    await rename(tmpPath, outputPath);
  } catch (err) {
    await unlink(tmpPath).catch(() => undefined);
    throw err;
  }
  const { size } = await stat(outputPath);
  return { outputPath, fileSize: size };
}

/**
 * A worker killed with SIGKILL cannot delete its temporary file, and its orphaned ffmpeg
 * may still be writing it: unlink it (the orphan then writes into a file nobody sees).
 */
async function removeStale(dir: string, stem: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names.filter((n) => n.startsWith(stem) && n.endsWith('.part')).map((n) => unlink(join(dir, n)).catch(() => undefined)),
  );
}
