import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { PublishOnce } from '../notifications/index.js';

/**
 * The request's `Idempotency-Key`, scoped to its caller (the service key, or the admin by
 * id) and bound to a hash of the route and body; undefined without the header.
 */
export function onceFor(request: FastifyRequest, route: string): PublishOnce | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  const scope = request.isService ? 'service' : `user:${request.principal!.user.id}`;
  const hash = createHash('sha256').update(route).update('\n').update(JSON.stringify(request.body)).digest('hex');
  return { scope, key, hash };
}
