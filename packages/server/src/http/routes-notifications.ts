import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { streamsFor, type Level } from '@herald/protocol';
import { readAllRefusal, type WorkBudgets } from '../budget/index.js';
import { notFound, rateLimited, unavailable } from '../errors.js';
import { wireObject, type NotificationService, type Target } from '../notifications/index.js';
import type { Store } from '../store/index.js';
import type { Guards } from './guards.js';
import { bearer, errorResponses, Id, IdParams, InboxPage, PublishAccepted, PublishBody, UnreadBody } from './schemas.js';

export interface NotificationRouteDeps {
  notifications: NotificationService;
  store: Store;
  guards: Guards;
  budgets: WorkBudgets;
}

const MAX_PAGE = 100;

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
      const target: Target = request.body.target ?? 'all';
      if (typeof target === 'number') {
        // The store being unreachable is a 503 like a failed write, not a 500: nothing was sent.
        const user = await store.users.findById(target).catch(() => {
          throw unavailable('notification store unavailable; nothing was sent');
        });
        if (!user) throw notFound(`user ${target}`);
      }
      const key = request.headers['idempotency-key'];
      const { stored, replayed } = await notifications.notifySystemMessage(request.body.message, (request.body.level ?? 'info') as Level, target, key);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(202).send({ ids: stored.map((s) => s.id), stream: stored[0].stream, offset: stored[0].seq });
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
          type: Type.Optional(Type.String({ maxLength: 200, pattern: '^[a-z_]+(,[a-z_]+)*$' })),
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
