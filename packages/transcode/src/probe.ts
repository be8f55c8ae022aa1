import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { FfmpegNotFoundError, NotAVideoError } from './errors.js';
import { ffprobeBinary, TailBuffer, type FfmpegBinaries } from './ffmpeg.js';

export interface ProbeResult {
  /** Seconds; 0 when the container does not say. */
  duration: number;
  width: number;
  height: number;
  hasVideo: boolean;
  /** Codec of the first video stream, e.g. `h264`; '' without video. */
  codec: string;
}

export interface ProbeOptions extends FfmpegBinaries {
  /** Throw NotAVideoError for media without a video stream (audio, still image). Default true. */
  requireVideo?: boolean;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; format_name?: string };
}

/**
 * Containers accepted as uploads. Playlists and lists (hls, dash, concat, …) are media to
 * ffprobe but make ffmpeg open the files or URLs they name: an uploaded playlist could read
 * server files or reach internal hosts. Only self-contained containers pass.
 */
const CONTAINERS = new Set([
  'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm', 'avi', 'flv', 'mpegts', 'mpeg', 'mpegvideo',
  'ogg', 'asf', 'mxf', 'h264', 'hevc', 'm4v', 'dv', 'rm', 'nut', 'ivf', 'obu', 'yuv4mpegpipe', 'wtv', 'gxf',
  // audio-only containers: read, then refused as "no video stream" with a precise reason
  'mp3', 'wav', 'flac', 'aac', 'w64',
]);

// Formats ffprobe reads a single still image with; a "video" of one frame is not a video.
const IMAGE_FORMATS = /(^|,)(image2|png_pipe|jpeg_pipe|webp_pipe|gif_pipe|bmp_pipe|tiff_pipe)(,|$)/;

/**
 * Reads the duration, size and codec of a media file with ffprobe.
 *
 * @example
 * const { duration, width, height } = await probe('/uploads/42.mov'); // NotAVideoError for a .txt
 */
export async function probe(file: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  try {
    await access(file);
  } catch {
    throw new NotAVideoError(file, 'input file missing or unreadable');
  }
  const bin = ffprobeBinary(opts);
  const out = await new Promise<string>((resolve, reject) => {
    execFile(
      bin,
      ['-v', 'error', '-protocol_whitelist', 'file', '-print_format', 'json', '-show_format', '-show_streams', `file:${resolvePath(file)}`],
      { timeout: 30_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES') return reject(new FfmpegNotFoundError(bin, err));
        const tail = new TailBuffer(5, 512);
        tail.push(stderr.split(resolvePath(file)).join('<input>').replace(/file:<input>/g, '<input>')); // server paths must not reach users
        reject(new NotAVideoError(file, tail.toString() || 'ffprobe failed'));
      },
    );
  });

  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(out) as FfprobeOutput;
  } catch {
    throw new NotAVideoError(file, 'ffprobe output unreadable');
  }
  const formatName = parsed.format?.format_name ?? '';
  if (!formatName.split(',').some((f) => CONTAINERS.has(f)) && !IMAGE_FORMATS.test(formatName)) {
    throw new NotAVideoError(file, `unsupported container "${formatName.slice(0, 40)}"`);
  }
  const video = (parsed.streams ?? []).find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const isImage = IMAGE_FORMATS.test(parsed.format?.format_name ?? '');
  const duration = Number(parsed.format?.duration ?? video?.duration ?? 0);
  const result: ProbeResult = {
    duration: Number.isFinite(duration) && duration > 0 ? duration : 0,
    width: video?.width ?? 0,
    height: video?.height ?? 0,
    hasVideo: video !== undefined && !isImage,
    codec: video?.codec_name ?? '',
  };
  if (opts.requireVideo !== false && !result.hasVideo) {
    throw new NotAVideoError(file, isImage ? 'a still image' : 'no video stream');
  }
  return result;
}
