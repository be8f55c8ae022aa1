/**
 * Streams and positions. Every persisted notification lives in exactly one stream and
 * has a strictly increasing `offset` there:
 *
 * - `user:<id>`: one user's own messages,
 * - `admins`: messages for every administrator,
 * - `broadcast`: messages for everyone.
 *
 * A `StreamPosition` maps a stream to the offset of the last message a client has seen.
 */
export type StreamName = `user:${number}` | 'admins' | 'broadcast';

export type StreamPosition = Record<string, number>;

export const ADMIN_STREAM = 'admins' as const;
export const BROADCAST_STREAM = 'broadcast' as const;

export function userStream(userId: number): StreamName {
  return `user:${userId}`;
}

export function isStreamName(value: string): value is StreamName {
  return value === ADMIN_STREAM || value === BROADCAST_STREAM || /^user:[1-9]\d{0,15}$/.test(value);
}

/** The streams a connection reads: its own, the broadcast, and for admins the admins' stream. */
export function streamsFor(userId: number, isAdmin: boolean): StreamName[] {
  return isAdmin ? [userStream(userId), ADMIN_STREAM, BROADCAST_STREAM] : [userStream(userId), BROADCAST_STREAM];
}

const MAX_SINCE_LENGTH = 512;
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Parses the `since` resume parameter: comma-separated `<stream>@<offset>` pairs, e.g.
 * `user:42@17,broadcast@5,admins@9`. Offsets are the last offset the client has seen
 * (0 means "from the beginning").
 */
export function parseSince(raw: string): ParseResult<StreamPosition> {
  if (raw.length > MAX_SINCE_LENGTH) return { ok: false, error: `since is longer than ${MAX_SINCE_LENGTH} characters` };
  const position: StreamPosition = {};
  if (raw.trim() === '') return { ok: true, value: position };
  for (const part of raw.split(',')) {
    const at = part.lastIndexOf('@');
    if (at <= 0) return { ok: false, error: `since entry "${part.slice(0, 40)}" is not <stream>@<offset>` };
    const stream = part.slice(0, at);
    const offsetText = part.slice(at + 1);
    if (!isStreamName(stream)) return { ok: false, error: `since names an unknown stream "${stream.slice(0, 40)}"` };
    if (!/^\d{1,16}$/.test(offsetText)) return { ok: false, error: `since offset for ${stream} is not a non-negative integer` };
    const offset = Number(offsetText);
    if (offset > MAX_OFFSET) return { ok: false, error: `since offset for ${stream} is too large` };
    if (stream in position) return { ok: false, error: `since names ${stream} twice` };
    position[stream] = offset;
  }
  return { ok: true, value: position };
}

/** Formats a position for the `since` parameter. */
export function formatSince(position: StreamPosition): string {
  return Object.entries(position)
    .map(([stream, offset]) => `${stream}@${offset}`)
    .join(',');
}
