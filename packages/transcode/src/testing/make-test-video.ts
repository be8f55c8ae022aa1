import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { runFfmpeg, type FfmpegBinaries } from '../ffmpeg.js';

export interface TestVideoOptions extends FfmpegBinaries {
  width?: number;
  height?: number;
  fps?: number;
  /** Add a 440 Hz sine audio track (default true). */
  audio?: boolean;
}

/**
 * Writes an H.264/AAC MP4 made from ffmpeg's own `testsrc` and `sine` sources: no sample
 * files needed. Used by the tests and by `herald demo`.
 *
 * @example
 * await makeTestVideo('/tmp/demo.mp4', 10, { width: 640, height: 360 });
 */
export async function makeTestVideo(path: string, seconds: number, opts: TestVideoOptions = {}): Promise<string> {
  const { width = 320, height = 240, fps = 25, audio = true } = opts;
  await mkdir(dirname(path), { recursive: true });
  await runFfmpeg(
    [
      '-y',
      '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=${fps}:duration=${seconds}`,
      ...(audio ? ['-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100:duration=${seconds}`] : []),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
      ...(audio ? ['-c:a', 'aac', '-b:a', '64k', '-shortest'] : []),
      // moov first, like an upload from a browser-friendly encoder; a truncated copy still probes.
      '-movflags', '+faststart',
      '-f', 'mp4',
      `file:${path}`,
    ],
    opts,
  );
  return path;
}
