export type {
  TranscodeJob,
  TranscodeReporter,
  TranscodeProgressEvent,
  TranscodeCompleteEvent,
  TranscodeFailedEvent,
} from './events.js';
export type { TranscodeQueue, RetryOptions } from './queue.js';
export type { EngineOptions } from './job-runner.js';
export {
  TranscodeError,
  UnknownPresetError,
  NotAVideoError,
  FfmpegNotFoundError,
  FfmpegFailedError,
  FfmpegSpawnError,
  TranscodeCancelledError,
  WorkerShutdownError,
  WorkerLostError,
  RedisUnavailableError,
  InvalidJobError,
} from './errors.js';
export { checkFfmpeg, type FfmpegInfo, type FfmpegBinaries } from './ffmpeg.js';
export { availablePresets, resolvePreset, PRESET_NAMES, type Preset } from './presets.js';
export { probe, type ProbeResult } from './probe.js';
export { outputPathFor } from './transcode-file.js';
export { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
export {
  BullMqQueue,
  startWorker,
  type BullMqQueueOptions,
  type BullMqLocation,
  type StartWorkerOptions,
  type TranscodeWorker,
} from './bullmq-queue.js';
export { createTranscodeQueue, type TranscodeQueueConfig } from './create-queue.js';
export { isTerminalStatus, PublishingReporter } from './reporter.js';
export {
  hubEvents,
  inProcessPublisher,
  HttpPublisher,
  type HttpPublisherOptions,
  type HubEvent,
  type TranscodeEvent,
  type TranscodePublisher,
} from './publisher.js';
export { VideoStore, type Video, type TranscodeJobRow } from './store/video-store.js';
export { VideoService, type VideoView, type TranscodeStatusView, type VideoServiceOptions, type LiveProgress } from './service.js';
export { startTranscoder, type Transcoder, type TranscoderOptions } from './embedded.js';
export { runWorker, type WorkerConfig, type RunningWorker } from './worker.js';
export { videoRoutes, type VideoRouteDeps } from './http/routes.js';
export { httpStatusOf } from './http/status.js';
