import { ERROR_HTTP_STATUS, ErrorCode } from '@herald/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';
import { formatValidation, type AjvError } from './validation.js';

/** The HTTP status of every error code (the table lives in @herald/protocol, shared with @herald/transcode). */
export const HTTP_STATUS = ERROR_HTTP_STATUS;

/** The code for a 4xx that Fastify or one of its plugins raised with a status only. */
function codeOfStatus(status: number): ErrorCode {
  if (status === 429) return ErrorCode.RATE_LIMITED;
  if (status === 413) return ErrorCode.TOO_LARGE;
  if (status === 415) return ErrorCode.UNSUPPORTED_MEDIA_TYPE;
  return ErrorCode.VALIDATION;
}

/** Every error leaves as `{ error: ERR_*, message, statusCode }` (plus `details` when given); nothing leaks a stack. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HeraldError, request, reply) => {
    if (error instanceof HeraldError) {
      const statusCode = HTTP_STATUS[error.code] ?? 500;
      if (statusCode === 500) {
        request.log.error({ err: error }, 'request failed');
        return reply.status(500).send({ error: ErrorCode.INTERNAL, message: 'internal server error', statusCode: 500 });
      }
      return reply.status(statusCode).send({ error: error.code, message: error.message, statusCode, ...(error.details ? { details: error.details } : {}) });
    }
    if (error.validation) {
      const context = error.validationContext ?? 'body';
      const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[context];
      const message = formatValidation(context, error.validation as AjvError[], schema);
      return reply.status(400).send({ error: ErrorCode.VALIDATION, message, statusCode: 400 });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: ErrorCode.INTERNAL, message: 'internal server error', statusCode: 500 });
    }
    return reply.status(status).send({ error: codeOfStatus(status), message: error.message, statusCode: status });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: ErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`, statusCode: 404 });
  });
}
