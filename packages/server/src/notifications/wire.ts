import type { StoredNotification } from '../store/index.js';

/** The JSON text of a stored notification as it goes on the wire (serialised once). */
export function wireText(stored: StoredNotification): string {
  return JSON.stringify({ type: stored.type, ...stored.payload, id: stored.id, stream: stored.stream, offset: stored.seq });
}

/** The wire object of a stored notification, for HTTP responses. */
export function wireObject(stored: StoredNotification): Record<string, unknown> {
  return { type: stored.type, ...stored.payload, id: stored.id, stream: stored.stream, offset: stored.seq };
}

export const nowIso = () => new Date().toISOString();

/** What a node learns from a payload without re-serialising it. */
export interface WireMeta {
  type: string;
  stream?: string;
  offset?: number;
  job_id?: string;
  video_id?: number;
}

/** Parses a broker payload once per node; returns undefined for anything that is not a wire message. */
export function readMeta(payload: string): { meta: WireMeta; message: Record<string, unknown> } | undefined {
  let message: unknown;
  try {
    message = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
  const m = message as Record<string, unknown>;
  if (typeof m.type !== 'string') return undefined;
  const meta: WireMeta = { type: m.type };
  if (typeof m.stream === 'string' && typeof m.offset === 'number') {
    meta.stream = m.stream;
    meta.offset = m.offset;
  }
  if (typeof m.job_id === 'string') meta.job_id = m.job_id;
  if (typeof m.video_id === 'number') meta.video_id = m.video_id;
  return { meta, message: m };
}
