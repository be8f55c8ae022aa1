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
  /** A malformed WebSocket frame (bad opcode, unmasked, …; set by `ws`); the reason names it. */
  PROTOCOL_ERROR: 1002,
  /** Policy violation: not sent by Herald itself (it uses 4xxx); proxies and other `ws` limits may. */
  POLICY_VIOLATION: 1008,
  /** A frame larger than the server's inbound limit was received; the reason gives the limit. */
  MESSAGE_TOO_BIG: 1009,
  /** A text frame was not valid UTF-8 (set by `ws`). */
  INVALID_PAYLOAD: 1007,
  /** Unexpected server error. */
  INTERNAL_ERROR: 1011,
  /**
   * Token refused (the reason names the class: `token missing`, `token malformed`, `token invalid`,
   * `token expired`, `token not yet valid`, `issuer not accepted`, `audience not accepted`,
   * `key not found`, `keys unavailable`, `token revoked`), its user is gone, or the user's
   * sessions were ended (`revoked` by the disconnect API, `password changed`).
   */
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
  /**
   * This user asked for more replay (rows resumed with `since`) than their budget allows
   * (`RESUME_ROWS_PER_MINUTE`); the reason carries `reconnect_after_ms`. Nothing was replayed.
   */
  RESUME_LIMITED: 4029,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** What a client should do after a close code. */
export type CloseAction = 'reconnect' | 'refreshToken' | 'giveUp' | 'done';

const ACTIONS: Record<number, CloseAction> = {
  [CloseCode.NORMAL]: 'done',
  [CloseCode.GOING_AWAY]: 'reconnect',
  [CloseCode.PROTOCOL_ERROR]: 'reconnect',
  [CloseCode.POLICY_VIOLATION]: 'reconnect',
  [CloseCode.MESSAGE_TOO_BIG]: 'reconnect',
  [CloseCode.INVALID_PAYLOAD]: 'reconnect',
  [CloseCode.INTERNAL_ERROR]: 'reconnect',
  [CloseCode.UNAUTHORIZED]: 'refreshToken',
  [CloseCode.FORBIDDEN]: 'giveUp',
  [CloseCode.RATE_LIMITED]: 'reconnect',
  [CloseCode.TOO_MANY_CONNECTIONS]: 'reconnect',
  [CloseCode.SLOW_CONSUMER]: 'reconnect',
  [CloseCode.HEARTBEAT_TIMEOUT]: 'reconnect',
  [CloseCode.RESUME_LIMITED]: 'reconnect',
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
 * Error codes carried by `error` messages (`code` field) and JSON HTTP error bodies
 * (`error` field). Stable: clients may branch on them. The server maps each one to an
 * HTTP status in one place (`packages/server/src/http/errors.ts`).
 */
export const ErrorCode = {
  /** WebSocket: a text frame that looked like JSON did not parse. */
  INVALID_JSON: 'ERR_INVALID_JSON',
  /** WebSocket: a command the server does not know. */
  UNKNOWN_COMMAND: 'ERR_UNKNOWN_COMMAND',
  /** WebSocket: a known command with missing or malformed fields. */
  INVALID_COMMAND: 'ERR_INVALID_COMMAND',
  /** WebSocket: binary frames are not part of the protocol. */
  BINARY_NOT_SUPPORTED: 'ERR_BINARY_NOT_SUPPORTED',
  /** WebSocket: the `since` resume positions are malformed or ahead of the stream. */
  INVALID_SINCE: 'ERR_INVALID_SINCE',
  /** Too many requests or messages; retry later (HTTP 429). */
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  /** The request does not match its schema or a domain rule (HTTP 400). */
  VALIDATION: 'ERR_VALIDATION',
  /** No valid credentials: sign in or refresh the token (HTTP 401). */
  UNAUTHORIZED: 'ERR_UNAUTHORIZED',
  /** Authenticated but not allowed (HTTP 403). */
  FORBIDDEN: 'ERR_FORBIDDEN',
  /** No such route or resource (HTTP 404). */
  NOT_FOUND: 'ERR_NOT_FOUND',
  /** The request conflicts with current state, e.g. a duplicate username (HTTP 409). */
  CONFLICT: 'ERR_CONFLICT',
  /** A dependency (store, broker) is unreachable; retry (HTTP 503). */
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  /** A server fault; the details are in the server log only (HTTP 500). */
  INTERNAL: 'ERR_INTERNAL',
  /** The request body or upload exceeds a configured limit (HTTP 413). */
  TOO_LARGE: 'ERR_TOO_LARGE',
  /** The request body has a content type the route does not accept (HTTP 415). */
  UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  /** An Idempotency-Key reused by the same caller with a different body (HTTP 422). */
  IDEMPOTENCY_CONFLICT: 'ERR_IDEMPOTENCY_CONFLICT',
  /** @herald/transcode: uploads and the transcode engine (HTTP status mapped in http/errors.ts and the transcode plugin). */
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

/**
 * The HTTP status of every error code: the one table both the server's error handler and
 * `@herald/transcode`'s routes answer from. Codes that only travel over the WebSocket (bad
 * commands, `since`) answer 400 should they ever reach HTTP.
 */
export const ERROR_HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.INVALID_JSON]: 400,
  [ErrorCode.UNKNOWN_COMMAND]: 400,
  [ErrorCode.INVALID_COMMAND]: 400,
  [ErrorCode.BINARY_NOT_SUPPORTED]: 400,
  [ErrorCode.INVALID_SINCE]: 400,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.VALIDATION]: 400,
  [ErrorCode.UNAUTHORIZED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.UNAVAILABLE]: 503,
  [ErrorCode.INTERNAL]: 500,
  [ErrorCode.TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.IDEMPOTENCY_CONFLICT]: 422,
  [ErrorCode.NOT_A_VIDEO]: 422,
  [ErrorCode.TRANSCODE_UNKNOWN_PRESET]: 400,
  [ErrorCode.TRANSCODE_INVALID_JOB]: 400,
  [ErrorCode.TRANSCODE_NOT_A_VIDEO]: 422,
  [ErrorCode.TRANSCODE_FFMPEG_NOT_FOUND]: 503,
  [ErrorCode.TRANSCODE_FFMPEG_FAILED]: 500,
  [ErrorCode.TRANSCODE_SPAWN]: 500,
  [ErrorCode.TRANSCODE_CANCELLED]: 409,
  [ErrorCode.TRANSCODE_SHUTDOWN]: 503,
  [ErrorCode.TRANSCODE_WORKER_LOST]: 500,
  [ErrorCode.TRANSCODE_REDIS_UNAVAILABLE]: 503,
};

/** The HTTP status for an error code; 500 for a code this version does not know. */
export function httpStatusOf(code: string): number {
  return (ERROR_HTTP_STATUS as Record<string, number>)[code] ?? 500;
}
