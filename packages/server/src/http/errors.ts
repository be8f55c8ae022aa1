import { ErrorCode } from '@herald/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';

/** Every error leaves as `{ error: ERR_*, message, statusCode }`; nothing leaks a stack. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.status(error.statusCode).send({ error: error.code, message: error.message, statusCode: error.statusCode });
    }
    if (error.validation) {
      const message = error.message.replace(/^(body|querystring|params|headers)\//, '$1.');
      return reply.status(400).send({ error: ErrorCode.VALIDATION, message, statusCode: 400 });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.status(500).send({ error: ErrorCode.INTERNAL, message: 'internal server error', statusCode: 500 });
    }
    const code = status === 429 ? ErrorCode.RATE_LIMITED : status === 413 ? 'ERR_TOO_LARGE' : status === 415 ? 'ERR_UNSUPPORTED_MEDIA_TYPE' : ErrorCode.VALIDATION;
    return reply.status(status).send({ error: code, message: error.message, statusCode: status });
  });
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: ErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`, statusCode: 404 });
  });
}
