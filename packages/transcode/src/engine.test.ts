import { existsSync } from 'node:fs';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegNotFoundError, NotAVideoError, UnknownPresetError } from './errors.js';
import type { TranscodeJob } from './events.js';
import { checkFfmpeg, runFfmpeg } from './ffmpeg.js';
import { InProcessQueue } from './in-process-queue.js';
import { availablePresets, listEncoders, resolvePreset } from './presets.js';
import { httpStatusOf } from './http/status.js';
import { probe } from './probe.js';
import { isTerminal, makeClips, makeTempDir, missingFfmpeg, RecordingReporter, uniqueId } from './testing/test-support.js';

const noFfmpeg = await missingFfmpeg();

describe.skipIf(noFfmpeg)('transcode engine with real ffmpeg', () => {
  let tmp: Awaited<ReturnType<typeof makeTempDir>>;
  let clips: Awaited<ReturnType<typeof makeClips>>;

  beforeAll(async () => {
    tmp = await makeTempDir();
    clips = await makeClips(tmp.dir);
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  function job(over: Partial<TranscodeJob> = {}): TranscodeJob {
    const id = uniqueId();
    return { job_id: id, video_id: 100 + Number(id.split('-').at(-1)), title: '示例视频', input: clips.short, formats: ['h264_480p'], ...over };
  }

  it('reports a missing ffmpeg binary as a typed error at start-up', async () => {
    await expect(checkFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toBeInstanceOf(FfmpegNotFoundError);
    await expect(runFfmpeg(['-version'], { ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toBeInstanceOf(FfmpegNotFoundError);
  });

  it('offers the h264 presets, and AV1 ones exactly when the build has an AV1 encoder', async () => {
    const names = await availablePresets();
    expect(names).toEqual(expect.arrayContaining(['h264_720p', 'h264_480p']));
    const encoders = await listEncoders();
    const hasAv1 = ['libsvtav1', 'librav1e', 'libaom-av1'].some((e) => encoders.has(e));
    expect(names.includes('av1_720p')).toBe(hasAv1);
    expect(names.includes('av1_480p')).toBe(hasAv1);
  });

  it('rejects an unknown preset with an error listing the available ones', async () => {
    const err = await resolvePreset('vp9_4k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownPresetError);
    const e = err as UnknownPresetError;
    expect(httpStatusOf(e.code)).toBe(400);
    expect(e.available).toEqual(await availablePresets());
    expect(e.message).toContain('h264_720p');
    const queue = new InProcessQueue({ reporter: new RecordingReporter(), outputDir: tmp.dir });
    await expect(queue.enqueue(job({ formats: ['h264_480p', 'nope'] }))).rejects.toBeInstanceOf(UnknownPresetError);
    expect(queue.size).toBe(0);
  });

  it('probes a real video', async () => {
    const info = await probe(clips.short);
    expect(info).toMatchObject({ width: 320, height: 240, hasVideo: true, codec: 'h264' });
    expect(info.duration).toBeGreaterThan(0.9);
    expect(info.duration).toBeLessThan(1.2);
  });

  it('refuses a text file as "not a video"', async () => {
    const err = await probe(clips.text).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotAVideoError);
    expect((err as Error).message).toMatch(/^not a video/);
    await expect(probe(join(tmp.dir, 'missing.mp4'))).rejects.toBeInstanceOf(NotAVideoError);
  });

  it('refuses audio without video, and reports it when asked not to refuse', async () => {
    const audio = join(tmp.dir, 'tone.m4a');
    await runFfmpeg(['-y', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', `file:${audio}`]);
    await expect(probe(audio)).rejects.toThrow('not a video: no video stream');
    expect(await probe(audio, { requireVideo: false })).toMatchObject({ hasVideo: false, codec: '', width: 0 });
  });

  it('refuses playlists and lists that would make ffmpeg open other files or URLs', async () => {
    const playlist = join(tmp.dir, 'upload.m3u8');
    await writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n${clips.short}\n#EXT-X-ENDLIST\n`);
    const list = join(tmp.dir, 'upload.txt');
    await writeFile(list, "ffconcat version 1.0\nfile 'short.mp4'\n"); // relative: passes concat's safe mode
    await expect(probe(playlist)).rejects.toThrow(/not a video: unsupported container "hls"/);
    await expect(probe(list)).rejects.toThrow(/not a video: unsupported container "concat"/);
  });

  it('reports monotonic progress reaching 100 before the completion, and the real file size', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'out-ok');
    // Real-time reading makes ffmpeg report several ticks per format on any machine.
    const queue = new InProcessQueue({ reporter, outputDir, progressIntervalMs: 50, realtime: true });
    const formats = ['h264_480p', 'h264_720p'];
    const j = job({ input: clips.hd, formats, user_id: 9 });
    await queue.enqueue(j);
    await reporter.waitFor(isTerminal(j.job_id), 30_000);
    await queue.close();

    const events = reporter.of(j.job_id);
    const progress = reporter.progressOf(j.job_id).map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.filter((p) => p > 0 && p < 50).length).toBeGreaterThan(0); // ticks inside the first format
    const completes = events.filter((e) => e.kind === 'complete');
    expect(completes.map((e) => e.kind === 'complete' && e.format_type)).toEqual(formats);
    const lastComplete = events.lastIndexOf(completes.at(-1)!);
    const hundred = events.findIndex((e) => e.kind === 'progress' && e.progress === 100);
    expect(hundred).toBeGreaterThan(-1);
    expect(hundred).toBeLessThan(lastComplete);
    expect(events.at(-1)).toMatchObject({ kind: 'complete', format_type: 'h264_720p' });
    expect(reporter.progressOf(j.job_id).map((e) => e.message)).toEqual(
      expect.arrayContaining(['正在转码 480p (1/2)', '已完成480p转码 (1/2)', '正在转码 720p (2/2)', '已完成720p转码 (2/2)']),
    );
    expect(events.every((e) => e.user_id === 9)).toBe(true);

    for (const c of completes) {
      if (c.kind !== 'complete') continue;
      expect(c.output_path).toBe(join(outputDir, String(j.video_id), `${c.format_type}.mp4`));
      expect(c.file_size).toBe((await stat(c.output_path)).size);
      expect(c.file_size).toBeGreaterThan(1000);
      const out = await probe(c.output_path);
      expect(out.codec).toBe('h264');
      expect(out.height).toBe(c.format_type === 'h264_480p' ? 480 : 720);
    }
    expect((await readdir(join(outputDir, String(j.video_id)))).sort()).toEqual(['h264_480p.mp4', 'h264_720p.mp4']);
    const working = reporter.progressOf(j.job_id).filter((e) => e.message.startsWith('正在转码'));
    expect(working.map(({ format, step, steps }) => ({ format, step, steps }))).toEqual(
      expect.arrayContaining([{ format: '480p', step: 1, steps: 2 }, { format: '720p', step: 2, steps: 2 }]),
    );
  });

  it('skips presets above the source, reports them, and never writes them as copies', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'out-skip');
    const queue = new InProcessQueue({ reporter, outputDir });
    const tall = job({ input: clips.hd, formats: ['h264_1080p', 'h264_720p', 'h264_480p'] });
    const small = job({ formats: ['h264_720p', 'h264_480p'] }); // a 320×240 source
    await queue.enqueue(tall);
    await queue.enqueue(small);
    await reporter.waitFor(isTerminal(tall.job_id), 60_000);
    await reporter.waitFor(isTerminal(small.job_id), 60_000);
    await queue.close();

    const formatsOf = (id: string) => reporter.of(id).flatMap((e) => (e.kind === 'complete' ? [e.format_type] : []));
    expect(formatsOf(tall.job_id)).toEqual(['h264_720p', 'h264_480p']);
    expect((await readdir(join(outputDir, String(tall.video_id)))).sort()).toEqual(['h264_480p.mp4', 'h264_720p.mp4']);
    const tallEnd = reporter.progressOf(tall.job_id).at(-1);
    expect(tallEnd).toMatchObject({ status: 'completed', progress: 100, format: '480p', step: 2, steps: 2, skipped: ['1080p'], source_width: 1280, source_height: 720 });
    expect(reporter.progressOf(tall.job_id).map((e) => e.message)).toContain('已跳过 1080p:源视频为 1280×720');

    // Every preset is above 240 lines: the lowest is kept (at the source's size), the others skipped.
    expect(formatsOf(small.job_id)).toEqual(['h264_480p']);
    expect(await readdir(join(outputDir, String(small.video_id)))).toEqual(['h264_480p.mp4']);
    expect((await probe(join(outputDir, String(small.video_id), 'h264_480p.mp4'))).height).toBe(240); // never upscaled
    expect(reporter.progressOf(small.job_id).at(-1)).toMatchObject({ status: 'completed', skipped: ['720p'], source_width: 320, source_height: 240, steps: 1 });
  }, 90_000);

  it('transcodes to AV1 when the build has an AV1 encoder', async (ctx) => {
    if (!(await availablePresets()).includes('av1_480p')) ctx.skip();
    const reporter = new RecordingReporter();
    const queue = new InProcessQueue({ reporter, outputDir: join(tmp.dir, 'out-av1') });
    const j = job({ formats: ['av1_480p'] });
    await queue.enqueue(j);
    const done = await reporter.waitFor((e) => e.job_id === j.job_id && (e.kind === 'complete' || e.kind === 'failed'), 30_000);
    expect(done.kind).toBe('complete');
    if (done.kind === 'complete') expect((await probe(done.output_path)).codec).toBe('av1');
    await queue.close();
  });

  it('reports a broken input as failed with the ffmpeg error tail and leaves no output', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'out-broken');
    const queue = new InProcessQueue({ reporter, outputDir });
    const j = job({ input: clips.broken });
    await queue.enqueue(j);
    const failed = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'failed');
    await queue.close();
    expect(failed.kind === 'failed' && failed.error).toMatch(/FFmpeg process exited with code \d+: .*\S/s);
    expect(failed.kind === 'failed' && failed.error.length).toBeLessThan(2200);
    expect(failed.kind === 'failed' && failed.error).not.toContain(tmp.dir); // no server paths to users
    expect(reporter.progressOf(j.job_id).at(-1)?.message).toMatch(/^转码失败: FFmpeg process exited with code \d+: \S/);
    // One attempt only: bad input is not retried.
    expect(reporter.progressOf(j.job_id).some((e) => e.status === 'retrying')).toBe(false);
    expect(reporter.progressOf(j.job_id).at(-1)?.status).toBe('failed');
    const dir = join(outputDir, String(j.video_id));
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  });

  it('reports a text file as failed "not a video" without running ffmpeg', async () => {
    const reporter = new RecordingReporter();
    const queue = new InProcessQueue({ reporter, outputDir: join(tmp.dir, 'out-text') });
    const j = job({ input: clips.text });
    await queue.enqueue(j);
    const failed = await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'failed');
    expect(failed.kind === 'failed' && failed.error).toMatch(/^not a video/);
    expect(failed.kind === 'failed' && failed.error).not.toContain(tmp.dir);
    await queue.close();
  });

  it('cancels a running job and removes its partial output', async () => {
    const reporter = new RecordingReporter();
    const outputDir = join(tmp.dir, 'out-cancel');
    const queue = new InProcessQueue({ reporter, outputDir, realtime: true, progressIntervalMs: 50 });
    const j = job({ input: clips.long });
    await queue.enqueue(j);
    await reporter.waitFor((e) => e.job_id === j.job_id && e.kind === 'progress' && e.progress > 0);
    const dir = join(outputDir, String(j.video_id));
    expect((await readdir(dir)).some((n) => n.endsWith('.part'))).toBe(true); // ffmpeg is writing
    expect(await queue.cancel(j.job_id)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(reporter.progressOf(j.job_id).at(-1)?.status).toBe('cancelled');
    expect(reporter.of(j.job_id).some((e) => e.kind === 'complete' || e.kind === 'failed')).toBe(false);
    expect(await queue.cancel(j.job_id)).toBe(false);
    await queue.close();
  });
});
