import { TERMINAL_TRANSCODE_STATUSES } from '@herald/protocol';
import type { TranscodeCompleteEvent, TranscodeFailedEvent, TranscodeProgressEvent, TranscodeReporter } from './events.js';
import type { TranscodePublisher } from './publisher.js';
import type { VideoStore } from './store/video-store.js';

const TERMINAL = new Set<string>(TERMINAL_TRANSCODE_STATUSES);

export const isTerminalStatus = (status: string): boolean => TERMINAL.has(status);

/**
 * The reporter of embedded queues and `herald worker`: every engine event is published to
 * Herald; status changes (not ticks) are written to the job row, so the polling endpoint
 * agrees with what was pushed.
 */
export class PublishingReporter implements TranscodeReporter {
  readonly #store: VideoStore;
  readonly #publisher: TranscodePublisher;
  readonly #lastStatus = new Map<string, string>();

  constructor(store: VideoStore, publisher: TranscodePublisher) {
    this.#store = store;
    this.#publisher = publisher;
  }

  async progress(e: TranscodeProgressEvent): Promise<void> {
    // The row first: a publish that fails (remote Herald unreachable) must not leave it stale.
    if (this.#lastStatus.get(e.job_id) !== e.status) {
      if (TERMINAL.has(e.status)) this.#lastStatus.delete(e.job_id);
      else this.#lastStatus.set(e.job_id, e.status);
      await this.#store.updateJob(e.job_id, { status: e.status, progress: e.progress, message: e.message });
    }
    await this.#publisher.publish({ type: 'transcode_progress', ...e });
  }

  async complete(e: TranscodeCompleteEvent): Promise<void> {
    await this.#store.addJobOutput(e.job_id, { format_type: e.format_type, file_size: e.file_size });
    const { output_path: _path, ...event } = e;
    await this.#publisher.publish({ type: 'transcode_complete', ...event });
  }

  async failed(e: TranscodeFailedEvent): Promise<void> {
    this.#lastStatus.delete(e.job_id);
    await this.#store.updateJob(e.job_id, { status: 'failed', error: e.error });
    await this.#publisher.publish({ type: 'transcode_failed', ...e });
  }
}
