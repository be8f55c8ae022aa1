import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProgressParser, progressFraction, TailBuffer } from './ffmpeg.js';
import { JobProgress } from './job-progress.js';
import { backoffDelay } from './queue.js';
import { RecordingReporter } from './testing/test-support.js';

describe('ffmpeg -progress parsing', () => {
  it('yields one tick per block with the output time in seconds', () => {
    const p = new ProgressParser();
    const ticks = p.push('frame=10\nout_time_us=1500000\nout_time_ms=1500000\nprogress=continue\nframe=20\nout_time_us=3000000\nprogr');
    expect(ticks).toEqual([{ outTimeSec: 1.5, end: false }]);
    expect(p.push('ess=end\n')).toEqual([{ outTimeSec: 3, end: true }]);
  });

  it('falls back to out_time_ms (microseconds despite its name) and ignores N/A', () => {
    const p = new ProgressParser();
    expect(p.push('out_time_ms=2000000\nprogress=continue\nout_time_us=N/A\nprogress=continue\n')).toEqual([
      { outTimeSec: 2, end: false },
      { outTimeSec: Number.NaN, end: false },
    ]);
  });

  it('turns output time against duration into a clamped fraction', () => {
    expect(progressFraction({ outTimeSec: 1, end: false }, 4)).toBe(0.25);
    expect(progressFraction({ outTimeSec: 9, end: false }, 4)).toBe(1);
    expect(progressFraction({ outTimeSec: Number.NaN, end: false }, 4)).toBe(0);
    expect(progressFraction({ outTimeSec: 1, end: false }, 0)).toBe(0);
    expect(progressFraction({ outTimeSec: Number.NaN, end: true }, 0)).toBe(1);
  });
});

describe('stderr tail', () => {
  it('keeps only the last lines and bytes', () => {
    const t = new TailBuffer(3, 40);
    for (let i = 0; i < 10; i++) t.push(`line ${i}\n`);
    expect(t.toString()).toBe('line 7\nline 8\nline 9');
    t.push('x'.repeat(100));
    expect(t.toString().length).toBeLessThanOrEqual(40);
  });
});

describe('backoff', () => {
  it('grows exponentially and stays under the cap', () => {
    expect(backoffDelay(1, 1000, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 1000, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 1000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(3, 1000, 30_000, () => 0)).toBe(500);
  });
});

describe('job progress stream', () => {
  const job = { job_id: 'j', video_id: 1, title: 't', input: 'x', formats: ['h264_480p'] };
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('throttles ticks to one per interval but keeps the trailing value', async () => {
    const r = new RecordingReporter();
    const p = new JobProgress(job, r, { intervalMs: 500, now: () => Date.now() });
    for (let i = 1; i <= 40; i++) {
      p.tick(i, 'm');
      vi.advanceTimersByTime(25); // 40 ticks over 1 s
    }
    vi.advanceTimersByTime(500);
    await p.flush();
    const values = r.events.map((e) => (e.kind === 'progress' ? e.progress : -1));
    expect(values.length).toBeLessThanOrEqual(4);
    expect(values.at(-1)).toBe(40);
  });

  it('never goes backwards, and only a status change reaches 100', async () => {
    const r = new RecordingReporter();
    const p = new JobProgress(job, r, { intervalMs: 0, floor: 30 });
    p.tick(20, 'm');
    p.tick(100, 'm');
    await p.status('retrying', 10, 'again');
    await p.status('completed', 100, 'done');
    const seen = r.events.map((e) => (e.kind === 'progress' ? [e.status, e.progress] : []));
    expect(seen).toEqual([
      ['processing', 99],
      ['retrying', 99],
      ['completed', 100],
    ]);
  });

  it('sends a status change at once and drops the pending tick', async () => {
    const r = new RecordingReporter();
    const p = new JobProgress(job, r, { intervalMs: 500 });
    p.tick(10, 'a');
    p.tick(20, 'b'); // pending
    await p.status('failed', 15, 'boom');
    vi.advanceTimersByTime(1000);
    await p.flush();
    expect(r.events.map((e) => (e.kind === 'progress' ? `${e.status}:${e.progress}` : ''))).toEqual([
      'processing:10',
      'failed:15',
    ]);
  });
});
