import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@herald/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { Metrics } from '../metrics.js';
import type { Endpoint, WebSocketGateway } from '../ws/gateway.js';
import { SESSION_ID, SSE_SESSION_HEADER, type SseSessions } from './refresh.js';
import { SseSocket } from './socket.js';

export const SSE_USER_PATH = '/api/v1/sse';
export const SSE_ADMIN_PATH = '/api/v1/sse/admin';
export const SSE_REFRESH_PATH = '/api/v1/sse/refresh';
/** How long an EventSource waits before it reconnects on its own after the stream ends. */
export const SSE_RETRY_MS = 3000;
const MAX_TOKEN_LENGTH = 4096;
const MAX_LAST_EVENT_ID = 4096;

export interface SseRouteDeps {
  gateway: WebSocketGateway;
  metrics: Metrics;
  sessions: SseSessions;
}

/** The token: `Authorization: Bearer <token>` (fetch clients) or `?token=` (EventSource cannot send headers). */
export function sseToken(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && /^bearer /i.test(header)) return header.slice(7).trim().slice(0, MAX_TOKEN_LENGTH + 1);
  return query.get('token')?.slice(0, MAX_TOKEN_LENGTH + 1) ?? undefined;
}

/** Where to resume: the browser's `Last-Event-ID` (newer than the URL it reconnects to), else `?since=`. */
export function sseSince(req: IncomingMessage, query: URLSearchParams): string | null {
  const last = req.headers['last-event-id'];
  if (typeof last === 'string' && last !== '') return last.slice(0, MAX_LAST_EVENT_ID + 1);
  return query.get('since');
}

function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
}

/** Response headers: the event stream, never cached nor buffered by proxies, plus what CORS set on the reply. */
function openStream(reply: FastifyReply, res: ServerResponse, session: string): void {
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] = value as string | number | string[];
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
    [SSE_SESSION_HEADER]: session,
    'access-control-expose-headers': SSE_SESSION_HEADER,
  });
  res.write(`retry: ${SSE_RETRY_MS}\n\n`);
}

/**
 * `GET /api/v1/sse` and `GET /api/v1/sse/admin`: the WebSocket endpoints' sessions over
 * Server-Sent Events. The same admission (Origin, limits counted over both transports,
 * token, admin rights), the same session (`ws/connection.ts`: delivery, expiry, revocation,
 * heartbeat, slow-consumer cut); a refusal or a close is an `event: close` before the end.
 */
export const sseRoutes: FastifyPluginAsync<SseRouteDeps> = async (app, { gateway, metrics, sessions }) => {
  const handler = (endpoint: Endpoint) => async (request: FastifyRequest, reply: FastifyReply) => {
    const req = request.raw;
    const res = reply.raw;
    if (!gateway.accepting) {
      return reply.status(503).send({ error: ErrorCode.UNAVAILABLE, message: 'server is shutting down', statusCode: 503 });
    }
    reply.hijack();
    // Streams live long: no socket idle timeout (heartbeats keep proxies from cutting them instead).
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    const query = queryOf(req);
    const ip = gateway.clientIp(req);
    const session = sessions.newId();
    openStream(reply, res, session);
    const socket = new SseSocket(res);
    const result = await gateway.admit(req, endpoint, query, ip, sseToken(req, query));
    if ('reason' in result) {
      if (res.destroyed) return;
      metrics.closes.inc({ code: result.code });
      socket.close(result.code, result.reason);
      return;
    }
    // Admitted: the stream holds one of its address's slots (both transports count) until it ends.
    const release = gateway.releaserFor(ip);
    res.once('close', release);
    if (res.destroyed) return release();
    const conn = await gateway.open(socket as unknown as WebSocket, { ...result, since: sseSince(req, query) }, 'sse');
    if (conn.state === 'closed') return;
    res.once('close', sessions.attach(session, conn));
  };
  const schema = { tags: ['sse'], hide: false };
  app.get(SSE_USER_PATH, { schema: { ...schema, summary: 'The user endpoint over Server-Sent Events (docs/sse.md)' } }, handler('user'));
  app.get(SSE_ADMIN_PATH, { schema: { ...schema, summary: 'The admin endpoint over Server-Sent Events (docs/sse.md)' } }, handler('admin'));
  app.post<{ Body: { session: string; token: string } }>(
    SSE_REFRESH_PATH,
    {
      schema: {
        ...schema,
        summary: "The SSE equivalent of the WebSocket `auth` command: a new token for the stream named by its `herald-session` response header; `token_refreshed` or an `error` arrives on the stream",
        body: {
          type: 'object',
          required: ['session', 'token'],
          additionalProperties: false,
          properties: { session: { type: 'string', pattern: SESSION_ID.source }, token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } },
        },
      },
    },
    async (request, reply) => {
      await sessions.refresh(request.body.session, request.body.token);
      return reply.status(202).send({ accepted: true });
    },
  );
};
