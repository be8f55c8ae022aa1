import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MessageType, streamsFor } from '@herald/protocol';
import { parseEvent, wireObject, type EventResult, type NotificationService } from '../notifications/index.js';
import type { Store } from '../store/index.js';
import type { Guards } from './guards.js';
import { onceFor } from './idempotency.js';
import { notFound, rateLimited } from '../errors.js';
import { readAllRefusal, type WorkBudgets } from '../budget/index.js';
import { bearer, errorResponses, Id, IdParams, InboxPage, PublishAccepted, PublishBody, UnreadBody } from './schemas.js';

export interface NotificationRouteDeps {
  notifications: NotificationService;
  store: Store;
  guards: Guards;
  budgets: WorkBudgets;
}

const MAX_PAGE = 100;

/** `{ids, stream, offset}` of the one system message a request sent. */
function systemMessageAnswer([result]: EventResult[]) {
  const [delivery] = result.deliveries;
  return { ids: [delivery.id!], stream: delivery.stream, offset: delivery.offset! };
}

export const notificationRoutes: FastifyPluginAsyncTypebox<NotificationRouteDeps> = async (app, { notifications, store, guards, budgets }) => {
  app.post(
    '/api/v1/notifications',
    {
      preHandler: guards.adminOrService,
      schema: {
        tags: ['notifications'],
        summary: 'Send a system_message (admin token or HERALD_SERVICE_KEY); retry safely with an Idempotency-Key',
        security: bearer,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: PublishBody,
        response: { 202: PublishAccepted, ...errorResponses },
      },
    },
    async (request, reply) => {
      // The specification's notify_system_message, through the producers' path (same checks, same idempotency).
      const { message, level, target } = request.body;
      const event = parseEvent({ type: MessageType.SYSTEM_MESSAGE, message, level, target: target ?? 'all' }, 'body');
      const { answer, replayed } = await notifications.publishEvents([event], systemMessageAnswer, onceFor(request, 'POST /api/v1/notifications'));
      if (replayed) reply.header('idempotent-replayed', 'true');
      else request.log.info({ msg_level: event.fields.level, target: target ?? 'all' }, '📢 system message sent');
      return reply.status(202).send(answer);
    },
  );

  app.get(
    '/api/v1/notifications',
    {
      preHandler: guards.user,
      schema: {
        tags: ['notifications'],
        summary: "The caller's inbox, newest first; pass next_cursor as cursor for the next page",
        security: bearer,
        querystring: Type.Object({
          cursor: Type.Optional(Id()),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 20 })),
          unread: Type.Optional(Type.Boolean()),
          type: Type.Optional(Type.String({ maxLength: 2000, pattern: '^[a-z][a-z0-9_.:-]*(,[a-z][a-z0-9_.:-]*)*$', description: 'comma list of types, custom ones included' })),
          level: Type.Optional(Type.String({ maxLength: 40, pattern: '^(info|success|warning|error)(,(info|success|warning|error))*$' })),
        }),
        response: {
          200: InboxPage,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { user } = request.principal!;
      const limit = request.query.limit ?? 20;
      const streams = streamsFor(user.id, user.is_admin);
      const [items, unread] = await Promise.all([
        store.inbox.page(user.id, { streams, before: request.query.cursor, limit, unreadOnly: request.query.unread, types: request.query.type?.split(','), levels: request.query.level?.split(',') }),
        store.inbox.unread(user.id, streams),
      ]);
      return {
        items: items.map((item) => ({ ...wireObject(item), read: item.read })) as never,
        next_cursor: items.length === limit ? items[items.length - 1].id : null,
        unread_count: unread.count,
        unread_positions: unread.positions,
      };
    },
  );

  app.get(
    '/api/v1/notifications/unread-count',
    { preHandler: guards.user, schema: { tags: ['notifications'], security: bearer, response: { 200: UnreadBody, ...errorResponses } } },
    async (request) => {
      const { user } = request.principal!;
      const unread = await notifications.unread(user.id, user.is_admin);
      return { unread_count: unread.count, unread_positions: unread.positions };
    },
  );

  app.post(
    '/api/v1/notifications/:id/read',
    {
      preHandler: guards.user,
      schema: {
        tags: ['notifications'],
        summary: 'Mark one notification read; every device of the user gets notifications_read',
        security: bearer,
        params: IdParams,
        response: { 200: UnreadBody, ...errorResponses },
      },
    },
    async (request) => {
      const { user } = request.principal!;
      const change = await notifications.markRead(user.id, user.is_admin, [request.params.id]);
      if (Array.isArray(change.ids) && change.ids.length === 0) throw notFound(`notification ${request.params.id}`);
      return { unread_count: change.unread.count, unread_positions: change.unread.positions };
    },
  );

  app.post(
    '/api/v1/notifications/read',
    {
      preHandler: guards.user,
      schema: {
        tags: ['notifications'],
        summary: 'Mark several notifications read (the mark_read command over HTTP, for SSE clients); unknown ids are ignored',
        security: bearer,
        body: Type.Object({ ids: Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 }) }),
        response: { 200: UnreadBody, ...errorResponses },
      },
    },
    async (request) => {
      const { user } = request.principal!;
      const change = await notifications.markRead(user.id, user.is_admin, request.body.ids);
      return { unread_count: change.unread.count, unread_positions: change.unread.positions };
    },
  );

  app.post(
    '/api/v1/notifications/read-all',
    {
      preHandler: guards.user,
      schema: { tags: ['notifications'], security: bearer, response: { 200: UnreadBody, ...errorResponses } },
    },
    async (request, reply) => {
      const { user } = request.principal!;
      const spent = budgets.readAll.spend(user.id, 1);
      if (!spent.ok) {
        reply.header('retry-after', String(Math.ceil(spent.retryAfterMs / 1000)));
        throw rateLimited(readAllRefusal(spent.retryAfterMs), spent.retryAfterMs);
      }
      const change = await notifications.markRead(user.id, user.is_admin, 'all');
      return { unread_count: change.unread.count, unread_positions: change.unread.positions };
    },
  );
};
