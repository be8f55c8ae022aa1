import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscodeJob } from './events.js';
import { InProcessQueue } from './in-process-queue.js';
import { ffmpegChildren, isTerminal, makeClips, makeTempDir, missingFfmpeg, type RecordedEvent, RecordingReporter, uniqueId } from './testing/test-support.js';

const noFfmpeg = await missingFfmpeg();

/** Highest number of jobs between their first `processing` and their end, over the event sequence. */
function maxConcurrent(events: RecordedEvent[]): number {
  const started = new Set<string>();
  let active = 0;
  let max = 0;
  for (const e of events) {
    if (e.kind === 'progress' && e.status === 'processing' && !started.has(e.job_id)) {
      started.add(e.job_id);
      max = Math.max(max, ++active);
    } else if (isTerminal(e.job_id)(e)) {
      active--;
    }
  }
  return max;
}

describe.skipIf(noFfmpeg)('in-process queue', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let clips: Awaited<ReturnType<typeof makeClips>>;

  beforeAll(async () => {
    tmp = await makeTempDir();
    clips = await makeClips(tmp.dir);
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  function job(videoId: number): TranscodeJob {
    return { job_id: uniqueId(), video_id: videoId, title: `v${videoId}`, input: clips.short, formats: ['h264_480p'] };
  }

  it('runs at most `concurrency` jobs at once and all of them to the end', async () => {
    const reporter = new RecordingReporter();
    const queue = new InProcessQueue({ reporter, outputDir: join(tmp.dir, 'conc'), concurrency: 2, realtime: true });
    const jobs = [job(1), job(2), job(3)];
    for (const j of jobs) await queue.enqueue(j);
    expect(reporter.events.filter((e) => e.kind === 'progress' && e.status === 'queued')).toHaveLength(3);
    await Promise.all(jobs.map((j) => reporter.waitFor(isTerminal(j.job_id), 20_000)));
    await queue.close();
    expect(maxConcurrent(reporter.events)).toBe(2);
    expect(reporter.events.filter((e) => e.kind === 'complete')).toHaveLength(3);
  });

  it('retries a job whose ffmpeg was killed by a signal, without redoing finished formats', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'retry');
    const queue = new InProcessQueue({ reporter, outputDir, realtime: true, backoffMs: 100, attempts: 3, progressIntervalMs: 50 });
    const j = { ...job(77), input: clips.hd, formats: ['h264_480p', 'h264_720p'] };
    await queue.enqueue(j);
    // Kill during the second format, as the OOM killer would.
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.progress > 55);
    const pids = ffmpegChildren(join(outputDir, '77'));
    expect(pids).toHaveLength(1);
    process.kill(pids[0], 'SIGKILL');

    const retrying = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.status === 'retrying');
    expect(retrying.kind === 'progress' && retrying.message).toMatch(/SIGKILL/);
    const end = await reporter.waitFor(isTerminal(j.job_id), 20_000);
    expect(end).toMatchObject({ kind: 'progress', status: 'completed', progress: 100 });
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'complete' && e.format_type === 'h264_720p');
    const completes = reporter.of(j.job_id).filter((e) => e.kind === 'complete');
    expect(completes.map((e) => e.kind === 'complete' && e.format_type)).toEqual(['h264_480p', 'h264_720p']);
    const progress = reporter.progressOf(j.job_id).map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b)); // the retry did not go backwards
    expect((await readdir(join(outputDir, '77'))).sort()).toEqual(['h264_480p.mp4', 'h264_720p.mp4']);
    await queue.close();
  });

  it('cancels a waiting job without running it', async () => {
    const reporter = new RecordingReporter();
    const queue = new InProcessQueue({ reporter, outputDir: join(tmp.dir, 'cw'), concurrency: 1, realtime: true });
    const first = job(5);
    const second = job(6);
    await queue.enqueue(first);
    await queue.enqueue(second);
    expect(await queue.cancel(second.job_id)).toBe(true);
    expect(reporter.progressOf(second.job_id).map((e) => e.status)).toEqual(['queued', 'cancelled']);
    await queue.close();
    // A shutdown interrupts the running job without reporting it cancelled: the server re-queues it at start.
    expect(reporter.progressOf(first.job_id).map((e) => e.status)).not.toContain('cancelled');
    expect(reporter.of(first.job_id).filter((e) => e.kind === 'failed')).toHaveLength(0);
  });
});
