import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { FfmpegNotFoundError, UnknownPresetError } from './errors.js';
import { ffmpegBinary, type FfmpegBinaries } from './ffmpeg.js';

const execFileP = promisify(execFile);

/** How one video encoder is driven; the first encoder this ffmpeg build has wins. */
interface EncoderChoice {
  encoder: string;
  args: readonly string[];
}

interface PresetSpec {
  name: string;
  /** Shown in progress messages ("正在转码 720p (1/2)"). */
  label: string;
  /** Output height; smaller inputs are not upscaled. */
  height: number;
  encoders: readonly EncoderChoice[];
}

/** A preset this ffmpeg build can run, resolved to one encoder. */
export interface Preset {
  name: string;
  label: string;
  height: number;
  encoder: string;
  extension: 'mp4';
  /** ffmpeg output arguments (codec, scaling, audio, container), without the file name. */
  outputArgs: readonly string[];
}

const X264: EncoderChoice[] = [{ encoder: 'libx264', args: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23'] }];
// Fast settings throughout: this is a notification system's worker, not an archive encoder.
const AV1: EncoderChoice[] = [
  { encoder: 'libsvtav1', args: ['-c:v', 'libsvtav1', '-preset', '10', '-crf', '35'] },
  { encoder: 'librav1e', args: ['-c:v', 'librav1e', '-speed', '10', '-qp', '120'] },
  { encoder: 'libaom-av1', args: ['-c:v', 'libaom-av1', '-usage', 'realtime', '-cpu-used', '8', '-row-mt', '1', '-crf', '35', '-b:v', '0'] },
];

const SPECS: readonly PresetSpec[] = [
  { name: 'h264_1080p', label: '1080p', height: 1080, encoders: X264 },
  { name: 'h264_720p', label: '720p', height: 720, encoders: X264 },
  { name: 'h264_480p', label: '480p', height: 480, encoders: X264 },
  { name: 'av1_720p', label: 'AV1 720p', height: 720, encoders: AV1 },
  { name: 'av1_480p', label: 'AV1 480p', height: 480, encoders: AV1 },
];

/** Every preset name Herald knows, whether or not this ffmpeg build can run it. */
export const PRESET_NAMES: readonly string[] = SPECS.map((s) => s.name);

function buildPreset(spec: PresetSpec, choice: EncoderChoice): Preset {
  return {
    name: spec.name,
    label: spec.label,
    height: spec.height,
    encoder: choice.encoder,
    extension: 'mp4',
    outputArgs: [
      '-map', '0:v:0', '-map', '0:a:0?',
      // min() keeps small sources at their size; -2 keeps the width even for the encoders.
      '-vf', `scale=-2:'min(${spec.height},trunc(ih/2)*2)'`,
      ...choice.args,
      '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k', '-ac', '2',
      // MP4 carries both H.264 and AV1 with AAC; faststart lets browsers play before the end.
      '-movflags', '+faststart',
      '-f', 'mp4',
    ],
  };
}

const encoderCache = new Map<string, Promise<ReadonlySet<string>>>();

/** The encoders of this ffmpeg build, probed once per binary. */
export function listEncoders(opts: FfmpegBinaries = {}): Promise<ReadonlySet<string>> {
  const bin = ffmpegBinary(opts);
  let cached = encoderCache.get(bin);
  if (!cached) {
    cached = execFileP(bin, ['-hide_banner', '-encoders'], { timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }).then(
      ({ stdout }) => {
        const found = new Set<string>();
        for (const line of stdout.split('\n')) {
          const m = /^\s*[VAS][.A-Z]{5}\s+(\S+)/.exec(line);
          if (m) found.add(m[1]);
        }
        return found;
      },
      (err: unknown) => {
        encoderCache.delete(bin); // let a later call retry once ffmpeg is installed
        throw new FfmpegNotFoundError(bin, err);
      },
    );
    encoderCache.set(bin, cached);
  }
  return cached;
}

async function usablePresets(opts: FfmpegBinaries): Promise<Map<string, Preset>> {
  const encoders = await listEncoders(opts);
  const out = new Map<string, Preset>();
  for (const spec of SPECS) {
    const choice = spec.encoders.find((c) => encoders.has(c.encoder));
    if (choice && encoders.has('aac')) out.set(spec.name, buildPreset(spec, choice));
  }
  return out;
}

/** Names of the presets this ffmpeg build can run, e.g. `['h264_720p', 'h264_480p', 'av1_720p', ...]`. */
export async function availablePresets(opts: FfmpegBinaries = {}): Promise<string[]> {
  return [...(await usablePresets(opts)).keys()];
}

/**
 * The preset called `name`, resolved to an encoder of this build.
 * Throws UnknownPresetError (HTTP 400) listing the available presets otherwise.
 */
export async function resolvePreset(name: string, opts: FfmpegBinaries = {}): Promise<Preset> {
  const usable = await usablePresets(opts);
  const preset = usable.get(name);
  if (preset) return preset;
  const reason = PRESET_NAMES.includes(name) ? 'preset unavailable in this ffmpeg build:' : 'unknown preset';
  throw new UnknownPresetError(name, [...usable.keys()], reason);
}

/** Resolves every name, reporting all unknown ones at once. */
export async function resolvePresets(names: readonly string[], opts: FfmpegBinaries = {}): Promise<Preset[]> {
  const usable = await usablePresets(opts);
  const missing = names.filter((n) => !usable.has(n));
  if (missing.length > 0) {
    const known = missing.every((n) => PRESET_NAMES.includes(n));
    throw new UnknownPresetError(missing.join('", "'), [...usable.keys()], known ? 'preset unavailable in this ffmpeg build:' : 'unknown preset');
  }
  return names.map((n) => usable.get(n)!);
}
