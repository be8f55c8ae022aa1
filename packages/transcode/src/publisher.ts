import { TERMINAL_TRANSCODE_STATUSES } from '@herald/protocol';
import type { TranscodeCompleteEvent, TranscodeFailedEvent, TranscodeProgressEvent } from './events.js';

/**
 * What the transcoder tells Herald. `target` is not part of it: `hubEvents()` decides who
 * receives each event (the administrators, and the uploader when the job names one).
 */
export type TranscodeEvent =
  | ({ type: 'transcode_progress' } & TranscodeProgressEvent)
  | ({ type: 'transcode_complete' } & Omit<TranscodeCompleteEvent, 'output_path'>)
  | ({ type: 'transcode_failed' } & TranscodeFailedEvent);

/** The transcoder's only way to reach Herald. */
export interface TranscodePublisher {
  publish(event: TranscodeEvent): Promise<void>;
}

/**
 * One event as Herald's publish API (`POST /api/v1/events`) takes it: the wire fields
 * plus `type` and `target` ("admin", "all" or a user id).
 */
export interface HubEvent {
  type: string;
  target: 'admin' | 'all' | number | string;
  [field: string]: unknown;
}

/**
 * The events Herald sends for one transcode event, with the fields the specification's
 * messages carry (plus `job_id`, and progress's structured fields): to the administrators, and to the uploader (`user_id`)
 * when there is one. Progress keeps `user_id` in its fields; completion and failure do not.
 */
export function hubEvents(event: TranscodeEvent): HubEvent[] {
  let fields: Record<string, unknown>;
  switch (event.type) {
    case 'transcode_progress': {
      const { video_id, status, progress, message, job_id, user_id, format, step, steps, skipped, source_width, source_height } = event;
      // The structured fields (format, step, steps, skipped, source size) ride beside the Chinese message.
      const detail = Object.fromEntries(Object.entries({ format, step, steps, skipped, source_width, source_height }).filter(([, v]) => v !== undefined));
      fields = { video_id, status, progress: Math.max(0, Math.min(100, progress)), message, job_id, ...detail, ...(user_id === undefined ? {} : { user_id }) };
      break;
    }
    case 'transcode_complete': {
      const { video_id, title, format_type, file_size, job_id } = event;
      fields = { video_id, title, format_type, file_size, job_id };
      break;
    }
    case 'transcode_failed': {
      const { video_id, title, error, job_id } = event;
      fields = { video_id, title, error, job_id };
      break;
    }
  }
  const events: HubEvent[] = [{ type: event.type, target: 'admin', ...fields }];
  if (event.user_id !== undefined) events.push({ type: event.type, target: event.user_id, ...fields });
  return events;
}

/**
 * In-process publisher (embedded default): `send` is the host's own publish function,
 * called once per receiver, in order.
 *
 * @example
 * const publisher = inProcessPublisher((e) => publishEvent(notifications, e));
 */
export function inProcessPublisher(send: (event: HubEvent) => Promise<unknown>): TranscodePublisher {
  return {
    async publish(event) {
      for (const e of hubEvents(event)) await send(e);
    },
  };
}

/** How the publish API names a Herald account (docs/identity.md). */
const HERALD_ACCOUNT_PREFIX = 'herald:';

/** Herald answered 404: a target user does not exist. */
class UnknownUserError extends Error {}

export interface HttpPublisherOptions {
  /** Herald's base URL, e.g. `http://herald:8000` (HERALD_URL). */
  url: string;
  /** HERALD_SERVICE_KEY of the Herald nodes. */
  serviceKey: string;
  /** Attempts for completion, failure and terminal statuses (plain ticks are sent once). Default 4. */
  attempts?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Remote publisher (`herald worker`): one `POST /api/v1/events` per transcode event,
 * authenticated with the service key. A tick that cannot be sent is dropped (the next one
 * supersedes it); completion, failure and terminal statuses are retried with backoff on network errors and 5xx.
 */
export class HttpPublisher implements TranscodePublisher {
  readonly #endpoint: string;
  readonly #key: string;
  readonly #attempts: number;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: HttpPublisherOptions) {
    this.#endpoint = new URL('/api/v1/events', options.url).href;
    this.#key = options.serviceKey;
    this.#attempts = options.attempts ?? 4;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  async publish(event: TranscodeEvent): Promise<void> {
    // The transcoder knows its uploader by Herald's account id; over the API a Herald account
    // is `herald:<id>` (with platform tokens a bare id would name a platform user instead).
    const events = hubEvents(event).map((e) => (typeof e.target === 'number' ? { ...e, target: `${HERALD_ACCOUNT_PREFIX}${e.target}` } : e));
    try {
      await this.#send(event, JSON.stringify(events));
    } catch (error) {
      // Herald stores nothing of a request naming an unknown user (an uploader deleted since):
      // the administrators still get the event.
      const admins = events.filter((e) => e.target === 'admin' || e.target === 'all');
      if (!(error instanceof UnknownUserError) || admins.length === events.length) throw error;
      await this.#send(event, JSON.stringify(admins));
    }
  }

  async #send(event: TranscodeEvent, body: string): Promise<void> {
    const tick = event.type === 'transcode_progress' && !TERMINAL_TRANSCODE_STATUSES.includes(event.status);
    const attempts = tick ? 1 : this.#attempts;
    for (let attempt = 1; ; attempt++) {
      let retriable: boolean;
      let reason: string;
      try {
        const res = await this.#fetch(this.#endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
        if (res.ok) {
          await res.body?.cancel();
          return;
        }
        retriable = res.status >= 500 || res.status === 429;
        reason = `HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`;
        if (res.status === 404) throw new UnknownUserError(`publishing ${event.type} to ${this.#endpoint} failed: ${reason}`);
      } catch (error) {
        if (error instanceof UnknownUserError) throw error;
        retriable = true;
        reason = error instanceof Error ? error.message : String(error);
      }
      if (!retriable || attempt >= attempts) throw new Error(`publishing ${event.type} to ${this.#endpoint} failed: ${reason}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(8000, 250 * 2 ** attempt)));
    }
  }
}
