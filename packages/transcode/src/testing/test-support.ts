/**
 * Test helpers of the transcode engine (excluded from the build by its name).
 * Tests that need ffmpeg or Redis skip with a reason when it is missing, and fail
 * instead when CI=true, so a broken CI image cannot pass by skipping everything.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { checkFfmpeg } from '../ffmpeg.js';
import type {
  TranscodeCompleteEvent,
  TranscodeFailedEvent,
  TranscodeProgressEvent,
  TranscodeReporter,
} from '../events.js';
import { makeTestVideo } from './make-test-video.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function probeRedis(url: string): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return `Redis not reachable at ${url} (${err instanceof Error ? err.message : String(err)})`;
  } finally {
    r.disconnect();
  }
}

async function probeFfmpeg(): Promise<string | undefined> {
  try {
    await checkFfmpeg();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Returns true when the dependency is missing (for `describe.skipIf`), after printing why;
 * throws under CI=true instead.
 */
function missing(what: string, problem: string | undefined): boolean {
  if (problem === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`${what} is required when CI=true: ${problem}`);
  console.warn(`skipping ${what} tests: ${problem}`);
  return true;
}

/** True (skip) when ffmpeg/ffprobe cannot run; throws under CI=true. Use with top-level await. */
export async function missingFfmpeg(): Promise<boolean> {
  return missing('ffmpeg', await probeFfmpeg());
}

/** True (skip) when Redis at REDIS_URL does not answer; throws under CI=true. */
export async function missingRedis(): Promise<boolean> {
  return missing('Redis', await probeRedis(REDIS_URL));
}

export type RecordedEvent =
  | ({ kind: 'progress' } & TranscodeProgressEvent)
  | ({ kind: 'complete' } & TranscodeCompleteEvent)
  | ({ kind: 'failed' } & TranscodeFailedEvent);

/** A reporter that records every event and lets a test wait for one. */
export class RecordingReporter implements TranscodeReporter {
  readonly events: RecordedEvent[] = [];
  #waiters: Array<{ pred: (e: RecordedEvent) => boolean; resolve: (e: RecordedEvent) => void }> = [];

  progress(e: TranscodeProgressEvent): void {
    this.#push({ kind: 'progress', ...e });
  }
  async complete(e: TranscodeCompleteEvent): Promise<void> {
    this.#push({ kind: 'complete', ...e });
  }
  async failed(e: TranscodeFailedEvent): Promise<void> {
    this.#push({ kind: 'failed', ...e });
  }

  /** Recorded events of one job. */
  of(jobId: string): RecordedEvent[] {
    return this.events.filter((e) => e.job_id === jobId);
  }

  progressOf(jobId: string): TranscodeProgressEvent[] {
    return this.of(jobId).filter((e): e is { kind: 'progress' } & TranscodeProgressEvent => e.kind === 'progress');
  }

  /** Resolves with the first event (already recorded or future) matching `pred`. */
  waitFor(pred: (e: RecordedEvent) => boolean, timeoutMs = 15_000): Promise<RecordedEvent> {
    const seen = this.events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(this.events.map(brief))}`));
      }, timeoutMs);
      const done = (e: RecordedEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.#waiters.push({ pred, resolve: done });
    });
  }

  #push(e: RecordedEvent): void {
    this.events.push(e);
    for (const w of [...this.#waiters]) {
      if (w.pred(e)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }
}

function brief(e: RecordedEvent): string {
  return e.kind === 'progress' ? `${e.job_id}:${e.status}:${e.progress}` : `${e.job_id}:${e.kind}`;
}

/** Whether a recorded event ends the job for good. */
export function isTerminal(jobId: string) {
  return (e: RecordedEvent): boolean =>
    e.job_id === jobId &&
    (e.kind === 'failed' || (e.kind === 'progress' && (e.status === 'completed' || e.status === 'cancelled')));
}

export async function makeTempDir(prefix = 'herald-transcode-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Test clips, made once per test file: short, small, with audio. */
export async function makeClips(dir: string): Promise<{ short: string; hd: string; medium: string; long: string; broken: string; text: string }> {
  const short = await makeTestVideo(join(dir, 'short.mp4'), 1, { width: 320, height: 240 });
  // 720 lines: tall enough for the 480p and 720p presets, which a 240-line source skips.
  const hd = await makeTestVideo(join(dir, 'hd.mp4'), 1, { width: 1280, height: 720 });
  const medium = await makeTestVideo(join(dir, 'medium.mp4'), 2, { width: 320, height: 240 });
  const long = await makeTestVideo(join(dir, 'long.mp4'), 6, { width: 320, height: 240 });
  // An upload cut off after its header: ffprobe reads it, ffmpeg fails decoding it.
  const bytes = await readFile(short);
  const broken = join(dir, 'broken.mp4');
  await writeFile(broken, bytes.subarray(0, bytes.indexOf('mdat') + 200));
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'this is not a video\n'.repeat(20));
  return { short, hd, medium, long, broken, text };
}

let seq = 0;
export function uniqueId(prefix = 'job'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
}

/** PIDs of the ffmpeg processes this test process started whose command line contains `needle`. */
export function ffmpegChildren(needle: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes('ffmpeg') && l.includes(needle))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n));
}

/** PIDs of any ffmpeg process on the machine whose command line contains `needle`. */
export function ffmpegProcesses(needle: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /\bffmpeg\b/.test(l) && l.includes(needle) && !l.includes('setpriv'))
    .map((l) => Number.parseInt(l.trim(), 10))
    .filter((n) => Number.isInteger(n));
}

/** Whether util-linux `setpriv` can start ffmpeg so that it dies with its worker. */
export function hasSetpriv(): boolean {
  try {
    execFileSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' });
    return process.platform === 'linux';
  } catch {
    return false;
  }
}
