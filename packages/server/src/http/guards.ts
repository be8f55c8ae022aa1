import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TokenError, type AuthService } from '../auth/index.js';
import type { Principal } from '../auth/service.js';
import { forbidden, unauthorized } from '../errors.js';
import type { Metrics } from '../metrics.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** True when the request carries HERALD_SERVICE_KEY instead of a user token. */
    isService?: boolean;
  }
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer ([^\s]{1,4096})$/i.exec(header);
  return match?.[1];
}

function sameKey(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** preHandler factories for routes: signed-in user, admin, or admin-or-service. */
export function guards(auth: AuthService, metrics: Metrics, serviceKey: string | undefined) {
  async function authenticate(request: FastifyRequest): Promise<Principal> {
    const token = bearerToken(request);
    try {
      return await auth.authenticate(token);
    } catch (error) {
      const reason = error instanceof TokenError ? error.reason : 'invalid';
      metrics.authFailures.inc({ reason });
      throw unauthorized(error instanceof TokenError ? error.message : 'token invalid');
    }
  }

  return {
    async user(request: FastifyRequest, _reply: FastifyReply) {
      request.principal = await authenticate(request);
    },
    async admin(request: FastifyRequest, _reply: FastifyReply) {
      request.principal = await authenticate(request);
      if (!request.principal.user.is_admin) throw forbidden('admin only');
    },
    async adminOrService(request: FastifyRequest, _reply: FastifyReply) {
      const token = bearerToken(request);
      if (serviceKey && token && sameKey(token, serviceKey)) {
        request.isService = true;
        return;
      }
      request.principal = await authenticate(request);
      if (!request.principal.user.is_admin) throw forbidden('admin or service key only');
    },
  };
}

export type Guards = ReturnType<typeof guards>;
