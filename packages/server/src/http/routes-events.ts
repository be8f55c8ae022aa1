import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CUSTOM_EVENT_TYPE, MAX_EVENT_DATA_BYTES } from '@herald/protocol';
import { invalid } from '../errors.js';
import { MAX_BATCH, MAX_TARGET_USERS, parseEvent, SPEC_FIELDS, type EventResult, type NotificationService, type Target } from '../notifications/index.js';
import type { Store } from '../store/index.js';
import type { Guards } from './guards.js';
import { onceFor } from './idempotency.js';
import { bearer, errorResponses } from './schemas.js';

export interface EventRouteDeps {
  notifications: NotificationService;
  store: Store;
  guards: Guards;
}

/** Bodies of `POST /api/v1/events` larger than this are refused with 413. */
export const EVENTS_BODY_LIMIT = 1024 * 1024;
const ROUTE = 'POST /api/v1/events';

const UserId = Type.Union([Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), Type.String({ minLength: 1, maxLength: 128, description: 'a public user id: decimal, or with platform tokens the platform\'s id (docs/identity.md)' })]);
const EventTarget = Type.Union([Type.Literal('admin'), Type.Literal('all'), UserId, Type.Array(UserId, { minItems: 1, maxItems: MAX_TARGET_USERS })], {
  description: '"admin", "all", a user id (integer or canonical decimal string; "123" is 123) or a list of user ids, each delivered to that user\'s stream',
});
const specEvent = (type: keyof typeof SPEC_FIELDS) =>
  Type.Composite([Type.Object({ type: Type.Literal(type), target: EventTarget }), SPEC_FIELDS[type]], { title: type });
const CustomEvent = Type.Object(
  {
    type: Type.String({ pattern: CUSTOM_EVENT_TYPE.source, description: 'any name but the specification\'s and Herald\'s own message types' }),
    target: EventTarget,
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: `any JSON object, at most ${MAX_EVENT_DATA_BYTES} bytes serialized; default {}` })),
    persist: Type.Optional(Type.Boolean({ description: 'false: ephemeral (sent live, conflated for slow consumers, never stored); default true' })),
  },
  { title: 'custom event', additionalProperties: false },
);
const Envelope = Type.Union([...(Object.keys(SPEC_FIELDS) as Array<keyof typeof SPEC_FIELDS>).map(specEvent), CustomEvent]);
/** The body schema documents the route; the handler checks it, to name the event and field at fault. */
const documentOnly = () => (value: unknown) => ({ value });

const Delivery = Type.Object({ stream: Type.String(), id: Type.Optional(Type.Integer()), offset: Type.Optional(Type.Integer()) });
const Result = Type.Object({
  type: Type.String(),
  stored: Type.Boolean({ description: 'false for transcode_progress and custom events with persist false: sent live, never stored' }),
  stream: Type.Optional(Type.String({ description: 'when the event went to one stream: that stream (and id, offset when stored)' })),
  id: Type.Optional(Type.Integer()),
  offset: Type.Optional(Type.Integer()),
  deliveries: Type.Array(Delivery, { description: 'every stream the event went to (one per user of a list target), with id and offset when stored' }),
});

/** The answer to a publish request: per event, in order. */
export function publishAnswer(results: EventResult[]) {
  return {
    events: results.map(({ type, stored, deliveries }) => ({ type, stored, ...(deliveries.length === 1 ? deliveries[0] : {}), deliveries })),
  };
}

/** Checks and sends events through the producers' path (also the in-process transcode publisher). */
export async function publishEvents(notifications: NotificationService, events: readonly unknown[], where = 'events') {
  const parsed = events.map((event, index) => parseEvent(event, `${where}[${index}]`));
  return notifications.publishEvents(parsed, publishAnswer);
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRouteDeps> = async (app, { notifications, guards }) => {
  app.post(
    '/api/v1/events',
    {
      preHandler: guards.adminOrService,
      validatorCompiler: documentOnly,
      bodyLimit: EVENTS_BODY_LIMIT,
      schema: {
        tags: ['events'],
        summary: 'Publish events as a producer (admin token or HERALD_SERVICE_KEY): one event or an array of up to 500',
        description: [
          'Each event is `{type, target, ...fields}`. Types: the specification\'s `transcode_progress` (video_id, progress 0-100,',
          'status default "processing", message default "", job_id?, user_id?; ephemeral: sent live, conflated for slow consumers, never stored),',
          '`transcode_complete` (video_id, title, format_type, file_size, job_id?), `transcode_failed` (video_id, title, error, job_id?),',
          '`system_message` (message, level? default info); other fields of these are dropped. Or a custom type matching',
          `\`${CUSTOM_EVENT_TYPE.source}\` with \`data\` (a JSON object of at most ${MAX_EVENT_DATA_BYTES} bytes) and \`persist\` (default true).`,
          'All events are checked first (400 naming the event and field; 404 listing unknown user ids), then the stored ones are written',
          'in one transaction (all or nothing) before any is sent. The answer lists, per event and in order, its stream(s) and, when stored,',
          `id and offset. Bodies over ${EVENTS_BODY_LIMIT} bytes get 413. With \`Idempotency-Key\` (per caller, bound to the body) a retry`,
          'with the same body gets the first answer and `Idempotent-Replayed: true`; the same key with another body gets 422.',
        ].join(' '),
        security: bearer,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: Type.Union([Envelope, Type.Array(Envelope, { minItems: 1, maxItems: MAX_BATCH })]),
        response: { 202: Type.Object({ events: Type.Array(Result) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const batch = Array.isArray(body) ? body : [body];
      if (batch.length === 0 || batch.length > MAX_BATCH) throw invalid(`body: send one event or an array of 1 to ${MAX_BATCH} (got ${batch.length})`);
      const key = request.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200)) throw invalid('Idempotency-Key must be 1 to 200 characters');
      const events = batch.map((event, index) => parseEvent(event, `events[${index}]`));
      const { answer, replayed } = await notifications.publishEvents(events, publishAnswer, onceFor(request, ROUTE));
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(answer);
    },
  );
};
