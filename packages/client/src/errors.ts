/**
 * Error codes the client reports through `onError` / `on('failure')`. Stable strings:
 * compare `error.code`, not the message.
 */
export const ClientErrorCode = {
  /** The server refused the token twice (close 4001), also after asking for a fresh one. */
  AUTH: 'ERR_AUTH',
  /** The token provider returned no token (by default: nothing under `localStorage` key `token`). */
  NO_TOKEN: 'ERR_NO_TOKEN',
  /** The token provider threw or rejected. */
  TOKEN_PROVIDER: 'ERR_TOKEN_PROVIDER',
  /** The server refused the connection for good (close 4003: not an admin, origin refused). */
  FORBIDDEN: 'ERR_FORBIDDEN',
  /** `maxReconnectAttempts` reconnects failed in a row. */
  RECONNECT_EXHAUSTED: 'ERR_RECONNECT_EXHAUSTED',
  /** The socket reported an error (network failure, refused upgrade); the client reconnects. */
  TRANSPORT: 'ERR_TRANSPORT',
  /** The server sent an `error` message (e.g. an unknown command); `cause` holds it. */
  SERVER: 'ERR_SERVER',
  /** A server frame could not be parsed or lacked required fields. */
  PROTOCOL: 'ERR_PROTOCOL',
  /** An HTTP request (inbox refetch after `resync_required`, status polling) failed. */
  HTTP: 'ERR_HTTP',
  /** An event listener threw; the client itself carries on. */
  LISTENER: 'ERR_LISTENER',
} as const;

export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** The one error class of the client SDK; use `instanceof` and `code`. */
export class HeraldClientError extends Error {
  readonly code: ClientErrorCode;
  /** The close code that led to this error, when there was one. */
  readonly closeCode: number | undefined;
  /** The HTTP status of a failed request (`ERR_HTTP`), when the server answered. */
  readonly status: number | undefined;

  constructor(code: ClientErrorCode, message: string, options: { cause?: unknown; closeCode?: number; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HeraldClientError';
    this.code = code;
    this.closeCode = options.closeCode;
    this.status = options.status;
  }
}
