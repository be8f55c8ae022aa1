import { execFile, execFileSync, spawn } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import {
  FfmpegFailedError,
  FfmpegNotFoundError,
  FfmpegSpawnError,
  TranscodeCancelledError,
} from './errors.js';

const execFileP = promisify(execFile);

/** Where to find the binaries; each falls back to FFMPEG_PATH / FFPROBE_PATH, then PATH. */
export interface FfmpegBinaries {
  ffmpegPath?: string;
  ffprobePath?: string;
}

export function ffmpegBinary(opts: FfmpegBinaries = {}): string {
  return opts.ffmpegPath ?? (process.env.FFMPEG_PATH || 'ffmpeg');
}

/** ffprobe lives beside ffmpeg in every distribution, so a custom FFMPEG_PATH implies it. */
export function ffprobeBinary(opts: FfmpegBinaries = {}): string {
  if (opts.ffprobePath ?? process.env.FFPROBE_PATH) return (opts.ffprobePath ?? process.env.FFPROBE_PATH)!;
  const ffmpeg = ffmpegBinary(opts);
  if (ffmpeg.includes('/')) return join(dirname(ffmpeg), basename(ffmpeg).replace(/ffmpeg/, 'ffprobe'));
  return 'ffprobe';
}

export interface FfmpegInfo {
  ffmpegPath: string;
  ffprobePath: string;
  /** First line of `ffmpeg -version`. */
  version: string;
}

/**
 * Checks that ffmpeg and ffprobe run. Call it when a worker starts, so a missing binary
 * is one clear error at start-up and not a failure of every job later.
 *
 * @example
 * const info = await checkFfmpeg(); // throws FfmpegNotFoundError
 * log.info(`transcoding with ${info.version}`);
 */
export async function checkFfmpeg(opts: FfmpegBinaries = {}): Promise<FfmpegInfo> {
  const ffmpegPath = ffmpegBinary(opts);
  const ffprobePath = ffprobeBinary(opts);
  let version = '';
  for (const bin of [ffmpegPath, ffprobePath]) {
    try {
      const { stdout } = await execFileP(bin, ['-hide_banner', '-version'], { timeout: 10_000 });
      if (bin === ffmpegPath) version = stdout.split('\n', 1)[0] ?? '';
    } catch (err) {
      throw new FfmpegNotFoundError(bin, err);
    }
  }
  return { ffmpegPath, ffprobePath, version };
}

/** Keeps the last lines of a stream, bounded both in lines and in bytes. */
export class TailBuffer {
  #lines: string[] = [];
  #partial = '';
  readonly #maxLines: number;
  readonly #maxChars: number;

  constructor(maxLines = 20, maxChars = 2048) {
    this.#maxLines = maxLines;
    this.#maxChars = maxChars;
  }

  push(chunk: string): void {
    const parts = (this.#partial + chunk).split(/\r?\n|\r/);
    this.#partial = (parts.pop() ?? '').slice(-this.#maxChars);
    for (const line of parts) if (line.trim()) this.#lines.push(line);
    if (this.#lines.length > this.#maxLines) this.#lines.splice(0, this.#lines.length - this.#maxLines);
  }

  toString(): string {
    const all = [...this.#lines, ...(this.#partial.trim() ? [this.#partial] : [])].join('\n');
    return all.length > this.#maxChars ? all.slice(-this.#maxChars) : all;
  }
}

/** One block of `-progress` output, reduced to what the engine uses. */
export interface ProgressTick {
  /** Output time written so far, in seconds (NaN when ffmpeg does not know yet). */
  outTimeSec: number;
  /** True on the final block (`progress=end`). */
  end: boolean;
}

/**
 * Incremental parser of ffmpeg's `-progress` key=value stream. ffmpeg writes a block of
 * keys ending with `progress=continue|end`; `out_time_us` and (despite its name, also
 * in microseconds) `out_time_ms` carry the output position.
 */
export class ProgressParser {
  #partial = '';
  #outTimeUs = Number.NaN;

  /** Feeds a chunk; returns one tick per completed block. */
  push(chunk: string): ProgressTick[] {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop() ?? '';
    const ticks: ProgressTick[] = [];
    for (const raw of lines) {
      const eq = raw.indexOf('=');
      if (eq < 0) continue;
      const key = raw.slice(0, eq).trim();
      const value = raw.slice(eq + 1).trim();
      if (key === 'out_time_us' || (key === 'out_time_ms' && Number.isNaN(this.#outTimeUs))) {
        const n = Number(value);
        if (Number.isFinite(n) && n >= 0) this.#outTimeUs = n;
      } else if (key === 'progress') {
        ticks.push({ outTimeSec: this.#outTimeUs / 1e6, end: value === 'end' });
        this.#outTimeUs = Number.NaN;
      }
    }
    return ticks;
  }
}

/** Fraction 0..1 of the output done, from elapsed output time against the input duration. */
export function progressFraction(tick: ProgressTick, durationSec: number): number {
  if (tick.end) return 1;
  if (!Number.isFinite(tick.outTimeSec) || !(durationSec > 0)) return 0;
  return Math.min(1, Math.max(0, tick.outTimeSec / durationSec));
}

let pdeathsigLauncher: boolean | undefined;

/**
 * On Linux, ffmpeg is started through `setpriv --pdeathsig KILL` (util-linux) when it is
 * installed, so that a worker killed with SIGKILL does not leave an orphaned ffmpeg
 * transcoding for hours beside the retry of its job. Probed once.
 */
function canKillWithParent(): boolean {
  if (pdeathsigLauncher === undefined) {
    try {
      execFileSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 });
      pdeathsigLauncher = process.platform === 'linux';
    } catch {
      pdeathsigLauncher = false;
    }
  }
  return pdeathsigLauncher;
}

export interface RunFfmpegOptions extends FfmpegBinaries {
  /** Input duration in seconds, to turn output time into a fraction. */
  durationSec?: number;
  /** Called with 0..1 on each progress block (not throttled). */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** Time between SIGTERM and SIGKILL on cancel. */
  killGraceMs?: number;
  /** Kill ffmpeg when this process dies (Linux, needs `setpriv`). Default true. */
  killWithParent?: boolean;
  /** Strings replaced in the stderr tail (server paths that must not reach users). */
  redact?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Runs ffmpeg with `args` (the engine adds `-progress pipe:1 -nostats` and the log
 * options). Resolves when it exits 0; rejects with FfmpegFailedError (with the stderr
 * tail), FfmpegSpawnError, or TranscodeCancelledError when `signal` aborts it.
 */
export function runFfmpeg(args: readonly string[], opts: RunFfmpegOptions = {}): Promise<void> {
  const bin = ffmpegBinary(opts);
  const { signal, onProgress, durationSec = 0, killGraceMs = 3000 } = opts;
  if (signal?.aborted) return Promise.reject(new TranscodeCancelledError(abortReason(signal)));

  return new Promise<void>((resolve, reject) => {
    const ffArgs = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats', '-stats_period', '0.2', '-progress', 'pipe:1', ...args];
    const viaSetpriv = opts.killWithParent !== false && canKillWithParent();
    // setpriv execs ffmpeg in place: the child pid is ffmpeg's, signals reach it directly.
    const child = viaSetpriv
      ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', bin, ...ffArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(bin, ffArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new TailBuffer();
    const parser = new ProgressParser();
    let killTimer: NodeJS.Timeout | undefined;
    let cancelled = false;
    let settled = false;

    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
      killTimer.unref();
    };
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      if (err) reject(err);
      else resolve();
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      for (const tick of parser.push(chunk)) onProgress?.(progressFraction(tick, durationSec));
    });
    child.stderr.on('data', (chunk: string) => tail.push(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      // ENOENT/EACCES here mean the binary vanished after checkFfmpeg(); other codes may pass.
      finish(err.code === 'ENOENT' || err.code === 'EACCES' ? new FfmpegNotFoundError(bin, err) : new FfmpegSpawnError(bin, err));
    });
    child.on('close', (code, sig) => {
      if (cancelled) return finish(new TranscodeCancelledError(abortReason(signal)));
      if (code === 0) return finish();
      if (viaSetpriv && (code === 126 || code === 127) && /setpriv: failed to execute/.test(tail.toString())) {
        return finish(new FfmpegNotFoundError(bin, new Error(tail.toString())));
      }
      // Killed by a signal we did not send (OOM killer, operator): the input is not to blame.
      let text = tail.toString();
      for (const [from, to] of opts.redact ?? []) text = text.split(from).join(to);
      finish(new FfmpegFailedError(code, sig, text, sig !== null));
    });
  });
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return typeof r === 'string' ? r : 'cancelled';
}
