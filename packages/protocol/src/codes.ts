/**
 * WebSocket close codes used by Herald, grouped by what a client should do next.
 *
 * - `reconnect`: the connection ended for a transient reason; reconnect (after the
 *   hinted or a backed-off delay) and resume from the last stream positions.
 * - `refreshToken`: authentication failed or expired; obtain a fresh token first.
 * - `giveUp`: retrying with the same credentials cannot succeed.
 */
export const CloseCode = {
  /** Normal closure initiated by either side. */
  NORMAL: 1000,
  /** Server is shutting down or restarting; reason carries `reconnect_after_ms`. */
  GOING_AWAY: 1001,
  /** A frame larger than the server's inbound limit was received (set by `ws`). */
  MESSAGE_TOO_BIG: 1009,
  /** A text frame was not valid UTF-8 (set by `ws`). */
  INVALID_PAYLOAD: 1007,
  /** Unexpected server error. */
  INTERNAL_ERROR: 1011,
  /** Token missing, malformed, badly signed, expired, not yet valid, or its user is gone. */
  UNAUTHORIZED: 4001,
  /** Authenticated but not allowed: not an admin on the admin endpoint, or Origin refused. */
  FORBIDDEN: 4003,
  /** Too many inbound messages per second from this connection. */
  RATE_LIMITED: 4008,
  /** Too many simultaneous connections for this user or this address. */
  TOO_MANY_CONNECTIONS: 4009,
  /** The connection could not keep up with its messages (send buffer overflow). */
  SLOW_CONSUMER: 4010,
  /** Used by clients: they close with it when the server missed their heartbeat (no pong). */
  HEARTBEAT_TIMEOUT: 4011,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client should do after a close code. */
export type CloseAction = 'reconnect' | 'refreshToken' | 'giveUp' | 'done';

const ACTIONS: Record<number, CloseAction> = {
  [CloseCode.NORMAL]: 'done',
  [CloseCode.GOING_AWAY]: 'reconnect',
  [CloseCode.MESSAGE_TOO_BIG]: 'reconnect',
  [CloseCode.INVALID_PAYLOAD]: 'reconnect',
  [CloseCode.INTERNAL_ERROR]: 'reconnect',
  [CloseCode.UNAUTHORIZED]: 'refreshToken',
  [CloseCode.FORBIDDEN]: 'giveUp',
  [CloseCode.RATE_LIMITED]: 'reconnect',
  [CloseCode.TOO_MANY_CONNECTIONS]: 'reconnect',
  [CloseCode.SLOW_CONSUMER]: 'reconnect',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'reconnect',
};

/** Maps a close code to the action a client should take; unknown codes (e.g. 1006) reconnect. */
export function closeAction(code: number): CloseAction {
  return ACTIONS[code] ?? 'reconnect';
}

/** Parses the `reconnect_after_ms=<n>` hint a server puts in the reason of a 1001 close. */
export function reconnectHint(reason: string): number | undefined {
  const match = /(?:^|[;\s])reconnect_after_ms=(\d{1,7})(?:$|[;\s])/.exec(reason);
  return match ? Number(match[1]) : undefined;
}

/**
 * Error codes carried by `error` messages and JSON HTTP error bodies (`code` field).
 */
export const ErrorCode = {
  INVALID_JSON: 'ERR_INVALID_JSON',
  UNKNOWN_COMMAND: 'ERR_UNKNOWN_COMMAND',
  INVALID_COMMAND: 'ERR_INVALID_COMMAND',
  BINARY_NOT_SUPPORTED: 'ERR_BINARY_NOT_SUPPORTED',
  INVALID_SINCE: 'ERR_INVALID_SINCE',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  VALIDATION: 'ERR_VALIDATION',
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  FORBIDDEN: 'ERR_FORBIDDEN',
  NOT_FOUND: 'ERR_NOT_FOUND',
  CONFLICT: 'ERR_CONFLICT',
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  INTERNAL: 'ERR_INTERNAL',
  // @herald/transcode: uploads and the transcode engine (HTTP status mapped in its plugin).
  TOO_LARGE: 'ERR_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  NOT_A_VIDEO: 'ERR_NOT_A_VIDEO',
  TRANSCODE_UNKNOWN_PRESET: 'ERR_TRANSCODE_UNKNOWN_PRESET',
  TRANSCODE_INVALID_JOB: 'ERR_TRANSCODE_INVALID_JOB',
  TRANSCODE_NOT_A_VIDEO: 'ERR_TRANSCODE_NOT_A_VIDEO',
  TRANSCODE_FFMPEG_NOT_FOUND: 'ERR_TRANSCODE_FFMPEG_NOT_FOUND',
  TRANSCODE_FFMPEG_FAILED: 'ERR_TRANSCODE_FFMPEG_FAILED',
  TRANSCODE_SPAWN: 'ERR_TRANSCODE_SPAWN',
  TRANSCODE_CANCELLED: 'ERR_TRANSCODE_CANCELLED',
  TRANSCODE_SHUTDOWN: 'ERR_TRANSCODE_SHUTDOWN',
  TRANSCODE_WORKER_LOST: 'ERR_TRANSCODE_WORKER_LOST',
  TRANSCODE_REDIS_UNAVAILABLE: 'ERR_TRANSCODE_REDIS_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
