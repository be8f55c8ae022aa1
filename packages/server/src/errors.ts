import { ErrorCode } from '@herald/protocol';

/**
 * A domain error: a stable code from `ErrorCode` (@herald/protocol), a message for people,
 * and optional details for programs. Services throw it without knowing about HTTP; the
 * HTTP status of each code is decided in one place, `http/errors.ts`.
 *
 * @example
 * throw new HeraldError(ErrorCode.CONFLICT, `user "${name}" already exists`);
 */
export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeraldError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new HeraldError(ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (why: string) => new HeraldError(ErrorCode.FORBIDDEN, why);
export const unauthorized = (why: string) => new HeraldError(ErrorCode.UNAUTHORIZED, why);
export const unavailable = (why: string) => new HeraldError(ErrorCode.UNAVAILABLE, why);
export const invalid = (why: string) => new HeraldError(ErrorCode.VALIDATION, why);
export const conflict = (why: string) => new HeraldError(ErrorCode.CONFLICT, why);
export const rateLimited = (why: string, retryAfterMs: number) => new HeraldError(ErrorCode.RATE_LIMITED, why, { retry_after_ms: retryAfterMs });
