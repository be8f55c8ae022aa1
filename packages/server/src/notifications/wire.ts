import { storedMessage, type StoredMessage } from '@herald/protocol';
import type { StoredNotification } from '../store/index.js';

/** The JSON text of a stored notification as it goes on the wire (serialised once). */
export function wireText(stored: StoredNotification): string {
  return JSON.stringify(wireObject(stored));
}

/** The wire object of a stored notification, for HTTP responses. */
export function wireObject(stored: StoredNotification): StoredMessage {
  return storedMessage(stored.type, stored.payload, { id: stored.id, stream: stored.stream, offset: stored.seq });
}

export { isoNow as nowIso } from '@herald/protocol';

/** What a node learns from a payload without re-serialising it. */
export interface WireMeta {
  type: string;
  stream?: string;
  offset?: number;
  job_id?: string;
  video_id?: number;
}

/**
 * Parses a broker payload once per node; returns undefined for anything that is not a wire
 * message. `message` is the parsed payload, to be checked before use (`isServerMessage`).
 */
export function readMeta(payload: string): { meta: WireMeta; message: unknown } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const fields: { type?: unknown; stream?: unknown; offset?: unknown; job_id?: unknown; video_id?: unknown } = message;
  const { type, stream, offset, job_id, video_id } = fields;
  if (typeof type !== 'string') return undefined;
  const meta: WireMeta = { type };
  if (typeof stream === 'string' && typeof offset === 'number') {
    meta.stream = stream;
    meta.offset = offset;
  }
  if (typeof job_id === 'string') meta.job_id = job_id;
  if (typeof video_id === 'number') meta.video_id = video_id;
  return { meta, message };
}
