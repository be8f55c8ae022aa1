import { ErrorCode } from '@herald/protocol';

/**
 * An error that reaches the client as an HTTP status with a JSON body
 * `{ error: <code>, message, statusCode }`.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound = (what: string) => new HttpError(404, ErrorCode.NOT_FOUND, `${what} not found`);
export const forbidden = (why: string) => new HttpError(403, ErrorCode.FORBIDDEN, why);
export const unauthorized = (why: string) => new HttpError(401, ErrorCode.UNAUTHORIZED, why);
export const unavailable = (why: string) => new HttpError(503, ErrorCode.UNAVAILABLE, why);
