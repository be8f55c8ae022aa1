import { spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BullMqQueue, startWorker, type BullMqLocation, type TranscodeWorker } from './bullmq-queue.js';
import { createTranscodeQueue } from './create-queue.js';
import { InProcessQueue } from './in-process-queue.js';
import { FfmpegNotFoundError, RedisUnavailableError, UnknownPresetError } from './errors.js';
import type { TranscodeJob } from './events.js';
import {
  ffmpegChildren,
  ffmpegProcesses,
  hasSetpriv,
  isTerminal,
  makeClips,
  makeTempDir,
  missingFfmpeg,
  missingRedis,
  type RecordedEvent,
  RecordingReporter,
  REDIS_URL,
  uniqueId,
} from './testing/test-support.js';

const noFfmpeg = await missingFfmpeg();
const noRedis = await missingRedis();

const here = fileURLToPath(new URL('.', import.meta.url));

describe('BullMQ worker start-up', () => {
  it('fails with FfmpegNotFoundError before touching Redis when ffmpeg is missing', async () => {
    await expect(
      startWorker({
        redisUrl: 'redis://127.0.0.1:1',
        reporter: new RecordingReporter(),
        outputDir: '/nonexistent',
        ffmpegPath: '/nonexistent/ffmpeg',
      }),
    ).rejects.toBeInstanceOf(FfmpegNotFoundError);
  });

  it.skipIf(noFfmpeg)('fails with RedisUnavailableError when Redis does not answer', async () => {
    const err = await startWorker({
      redisUrl: 'redis://:secret@127.0.0.1:1',
      reporter: new RecordingReporter(),
      outputDir: '/nonexistent',
      startupTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as Error).message).toBe('Redis at 127.0.0.1:1 does not answer');
  });
});

/** A worker in a child process, reporting on stdout: killable with SIGKILL like a crashed `herald worker`. It transpiles the
 * sources on start (seconds on a busy machine), so the tests that use one have a longer budget. */
class ChildWorker {
  readonly events: RecordedEvent[] = [];
  readonly proc: ChildProcess;
  #listeners: Array<() => void> = [];

  constructor(loc: Required<BullMqLocation>, outputDir: string) {
    const register = `data:text/javascript,${encodeURIComponent(
      `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(join(here, 'testing', 'test-ts-hooks.mjs')).href)});`,
    )}`;
    this.proc = spawn(process.execPath, ['--conditions=herald-source', '--import', register, join(here, 'testing', 'test-worker-child.ts')], {
      env: {
        ...process.env,
        REDIS_URL: loc.redisUrl,
        HERALD_QUEUE: loc.queueName,
        HERALD_PREFIX: loc.prefix,
        HERALD_OUTPUT_DIR: outputDir,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as RecordedEvent);
      } catch {
        return;
      }
      for (const l of this.#listeners) l();
    });
  }

  waitFor(pred: (e: RecordedEvent | { kind: 'ready' }) => boolean, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (this.events.some(pred as (e: RecordedEvent) => boolean)) {
          clearTimeout(timer);
          this.#listeners = this.#listeners.filter((l) => l !== check);
          resolve();
        }
      };
      const timer = setTimeout(() => reject(new Error(`child worker: no matching event; saw ${JSON.stringify(this.events)}`)), timeoutMs);
      this.#listeners.push(check);
      check();
    });
  }

  kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}

describe.skipIf(noFfmpeg || noRedis)('BullMQ queue on real Redis', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let clips: Awaited<ReturnType<typeof makeClips>>;
  const loc = { redisUrl: REDIS_URL, queueName: uniqueId('q'), prefix: `herald-test-${process.pid}` };
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    tmp = await makeTempDir();
    clips = await makeClips(tmp.dir);
  });
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  });
  afterAll(async () => {
    const r = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${loc.prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await r.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    r.disconnect();
    await tmp?.cleanup();
  });

  function job(videoId: number, over: Partial<TranscodeJob> = {}): TranscodeJob {
    return { job_id: uniqueId(), video_id: videoId, title: '示例视频', input: clips.short, formats: ['h264_480p'], ...over };
  }
  function queue(reporter: RecordingReporter, over: Partial<ConstructorParameters<typeof BullMqQueue>[0]> = {}): BullMqQueue {
    const q = new BullMqQueue({ ...loc, reporter, backoffMs: 200, ...over });
    closers.push(() => q.close());
    return q;
  }
  async function worker(reporter: RecordingReporter, outputDir: string, over: Record<string, unknown> = {}): Promise<TranscodeWorker> {
    const w = await startWorker({ ...loc, reporter, outputDir, progressIntervalMs: 50, lockDurationMs: 2000, stalledIntervalMs: 500, ...over });
    closers.push(() => w.close());
    return w;
  }

  it('has a worker process the job and report progress and completion', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'basic');
    const q = queue(reporter);
    await worker(reporter, outputDir);
    const j = job(1, { input: clips.hd, formats: ['h264_480p', 'h264_720p'], user_id: 3 });
    await q.enqueue(j);
    await reporter.waitFor(isTerminal(j.job_id), 20_000);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete' && e.format_type === 'h264_720p');
    const statuses = reporter.progressOf(j.job_id).map((e) => e.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses.at(-1)).toBe('completed');
    const completes = reporter.of(j.job_id).filter((e) => e.kind === 'complete');
    expect(completes.map((e) => e.kind === 'complete' && e.format_type)).toEqual(['h264_480p', 'h264_720p']);
    expect(completes.every((e) => e.kind === 'complete' && e.file_size > 1000 && e.user_id === 3)).toBe(true);
    expect((await readdir(join(outputDir, '1'))).sort()).toEqual(['h264_480p.mp4', 'h264_720p.mp4']);
  });

  it('is the queue chosen when a Redis URL is configured, the in-process one otherwise', async () => {
    const reporter = new RecordingReporter();
    const clustered = createTranscodeQueue({ ...loc, reporter, outputDir: tmp.dir });
    closers.push(() => clustered.close());
    expect(clustered).toBeInstanceOf(BullMqQueue);
    const embedded = createTranscodeQueue({ reporter, outputDir: tmp.dir });
    expect(embedded).toBeInstanceOf(InProcessQueue);
    await embedded.close();
  });

  it('rejects an unknown preset at enqueue, listing the available ones', async () => {
    const q = queue(new RecordingReporter());
    const err = await q.enqueue(job(2, { formats: ['h265_8k'] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownPresetError);
    expect((err as Error).message).toContain('h264_480p');
  });

  it('fails a broken input once, with the ffmpeg error, without retrying', async () => {
    const reporter = new RecordingReporter();
    const q = queue(reporter);
    await worker(reporter, join(tmp.dir, 'broken'));
    const j = job(3, { input: clips.broken });
    await q.enqueue(j);
    const failed = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'failed');
    expect(failed.kind === 'failed' && failed.error).toMatch(/FFmpeg process exited with code/);
    await expect.poll(async () => (await q.queue.getJob(j.job_id))?.getState(), { timeout: 5000 }).toBe('failed');
    expect((await q.queue.getJob(j.job_id))?.attemptsMade).toBe(1);
    expect(reporter.progressOf(j.job_id).some((e) => e.status === 'retrying')).toBe(false);
  });

  it('cancels a waiting job and a running one, leaving no partial output', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'cancel');
    const q = queue(reporter);
    await worker(reporter, outputDir, { realtime: true, concurrency: 1 });
    const running = job(4, { input: clips.long });
    const waiting = job(5);
    await q.enqueue(running);
    await q.enqueue(waiting);
    await reporter.waitFor((e) => e.job_id === running.job_id && e.kind === 'progress' && e.progress > 0);

    expect(await q.cancel(waiting.job_id)).toBe(true);
    expect(reporter.progressOf(waiting.job_id).map((e) => e.status)).toEqual(['queued', 'cancelled']);

    expect(await q.cancel(running.job_id)).toBe(true);
    await reporter.waitFor((e) => e.job_id === running.job_id && e.kind === 'progress' && e.status === 'cancelled', 10_000);
    // The worker's processor settles just after reporting; give BullMQ a moment to record it.
    await expect.poll(async () => (await q.queue.getJob(running.job_id))?.getState(), { timeout: 5000 }).toBe('failed');
    expect(await readdir(join(outputDir, '4'))).toEqual([]);
    expect(reporter.of(running.job_id).some((e) => e.kind === 'complete' || e.kind === 'failed')).toBe(false);
    expect(await q.cancel(running.job_id)).toBe(false);
    expect(await q.cancel('no-such-job')).toBe(false);
  });

  it('retries the job of a worker killed mid-job on another worker, which completes it', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'killed');
    const q = queue(reporter);
    const child = new ChildWorker(loc, outputDir);
    closers.push(() => child.kill());
    await child.waitFor((e) => e.kind === 'ready', 40_000);
    const j = job(6, { input: clips.medium });
    await q.enqueue(j);
    await child.waitFor((e) => e.kind === 'progress' && e.job_id === j.job_id && e.progress > 0);
    expect(ffmpegProcesses(join(outputDir, '6'))).toHaveLength(1);
    await child.kill(); // kill -9: no cleanup, the lock just stops being renewed
    // Its ffmpeg dies with it instead of transcoding on as an orphan.
    if (hasSetpriv()) await expect.poll(() => ffmpegProcesses(join(outputDir, '6')), { timeout: 2000 }).toEqual([]);

    await worker(reporter, outputDir);
    const retry = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.status === 'retrying', 15_000);
    expect(retry.kind === 'progress' && retry.message).toMatch(/worker lost/);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete', 15_000);

    // Progress over both workers never went backwards: the floor travels with the job.
    const all = [...child.events, ...reporter.events].filter(
      (e): e is Extract<RecordedEvent, { kind: 'progress' }> => e.kind === 'progress' && e.job_id === j.job_id && e.status !== 'queued',
    );
    const values = all.map((e) => e.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(values.at(-1)).toBe(100);
    expect(await readdir(join(outputDir, '6'))).toEqual(['h264_480p.mp4']);
    await expect.poll(async () => (await q.queue.getJob(j.job_id))?.getState(), { timeout: 5000 }).toBe('completed');
  }, 60_000);

  it('reports retrying when ffmpeg is killed by a signal, and completes on the next attempt', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'transient');
    const q = queue(reporter);
    await worker(reporter, outputDir, { realtime: true });
    const j = job(7, { input: clips.medium });
    await q.enqueue(j);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.progress > 0);
    const pids = ffmpegChildren(join(outputDir, '7'));
    expect(pids).toHaveLength(1);
    process.kill(pids[0], 'SIGKILL');
    const retry = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.status === 'retrying');
    expect(retry.kind === 'progress' && retry.message).toMatch(/第2次尝试.*SIGKILL/);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete', 15_000);
    await expect.poll(async () => (await q.queue.getJob(j.job_id))?.getState(), { timeout: 5000 }).toBe('completed');
    expect((await q.queue.getJob(j.job_id))?.attemptsMade).toBe(2); // BullMQ counts the successful attempt too
    expect(reporter.of(j.job_id).some((e) => e.kind === 'failed')).toBe(false);
  });

  it('fails a job with "worker lost" once its workers died more often than allowed', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'lost');
    const q = queue(reporter);
    const child = new ChildWorker(loc, outputDir);
    closers.push(() => child.kill());
    await child.waitFor((e) => e.kind === 'ready', 40_000);
    const j = job(8, { input: clips.medium });
    await q.enqueue(j);
    await child.waitFor((e) => e.kind === 'progress' && e.job_id === j.job_id && e.progress > 0);
    await child.kill();

    await worker(reporter, outputDir, { maxStalledCount: 0 });
    const failed = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'failed', 15_000);
    expect(failed.kind === 'failed' && failed.error).toMatch(/worker lost/);
    expect(reporter.progressOf(j.job_id).at(-1)?.status).toBe('failed');
    expect(reporter.of(j.job_id).some((e) => e.kind === 'complete')).toBe(false);
  }, 60_000);

  it('refuses a job id that is still queued, and runs a finished one again', async () => {
    const reporter = new RecordingReporter();
    const q = queue(reporter);
    const j = job(9);
    await q.enqueue(j);
    await expect(q.enqueue(j)).rejects.toThrow(/already queued/);
    await worker(reporter, join(tmp.dir, 'again'));
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete');
    await expect.poll(async () => (await q.queue.getJob(j.job_id))?.getState(), { timeout: 5000 }).toBe('completed');
    await q.enqueue(j);
    await expect.poll(() => reporter.of(j.job_id).filter((e) => e.kind === 'complete').length, { timeout: 10_000 }).toBe(2);
  });

  it('hands a running job back to the queue when its worker shuts down, without using an attempt', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'shutdown');
    const q = queue(reporter);
    const first = await worker(reporter, outputDir, { realtime: true });
    const j = job(10, { input: clips.medium });
    await q.enqueue(j);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.progress > 0);
    await first.close();
    const retry = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.status === 'retrying');
    expect(retry.kind === 'progress' && retry.message).toMatch(/shutting down/);
    expect(ffmpegChildren(join(outputDir, '10'))).toEqual([]);
    expect(await readdir(join(outputDir, '10'))).toEqual([]);

    await worker(reporter, outputDir);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete', 15_000);
    await expect.poll(async () => (await q.queue.getJob(j.job_id))?.getState(), { timeout: 5000 }).toBe('completed');
    expect((await q.queue.getJob(j.job_id))?.attemptsMade).toBe(1); // only the successful one
  });
});
