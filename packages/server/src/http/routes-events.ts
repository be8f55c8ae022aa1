import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorCode, EPHEMERAL_TYPES, MessageType } from '@herald/protocol';
import { invalid, notFound, unavailable } from '../errors.js';
import { streamOf, type Delivery, type NotificationService, type Target } from '../notifications/index.js';
import type { Store } from '../store/index.js';
import type { Guards } from './guards.js';
import { bearer, Count, errorResponses, Id, Level, MAX_INTEGER } from './schemas.js';

export interface EventRouteDeps {
  notifications: NotificationService;
  store: Store;
  guards: Guards;
}

/** One event as producers send it: `type`, `target` and the message's own fields. */
export interface PublishEvent {
  type: string;
  target: Target;
  [field: string]: unknown;
}

const MAX_BATCH = 500;

const EventTarget = Type.Union(
  [Type.Literal('admin'), Type.Literal('all'), Id(), Type.String({ pattern: '^[1-9][0-9]{0,15}$' })],
  { description: '"admin", "all", or a user id (number or numeric string)' },
);
const EventType = Type.Union([
  Type.Literal(MessageType.TRANSCODE_PROGRESS),
  Type.Literal(MessageType.TRANSCODE_COMPLETE),
  Type.Literal(MessageType.TRANSCODE_FAILED),
  Type.Literal(MessageType.SYSTEM_MESSAGE),
]);
const Envelope = Type.Object(
  { type: EventType, target: EventTarget },
  { additionalProperties: true, description: 'An event: `type`, `target` and the fields of its type (see the summary)' },
);

const JobId = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));
const VideoId = Count();
/** The fields each type carries on the wire; anything else in an event is dropped. */
const FIELDS: Record<Static<typeof EventType>, TSchema> = {
  transcode_progress: Type.Object({
    video_id: VideoId,
    status: Type.String({ minLength: 1, maxLength: 32 }),
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    message: Type.String({ maxLength: 2000 }),
    job_id: JobId,
    user_id: Type.Optional(Id()),
  }),
  transcode_complete: Type.Object({
    video_id: VideoId,
    title: Type.String({ maxLength: 200 }),
    format_type: Type.String({ minLength: 1, maxLength: 64 }),
    file_size: Count(),
    job_id: JobId,
  }),
  transcode_failed: Type.Object({ video_id: VideoId, title: Type.String({ maxLength: 200 }), error: Type.String({ maxLength: 8000 }), job_id: JobId }),
  system_message: Type.Object({ message: Type.String({ minLength: 1, maxLength: 2000 }), level: Type.Optional(Level) }),
};
const CHECKS = Object.fromEntries(Object.entries(FIELDS).map(([type, schema]) => [type, TypeCompiler.Compile(schema)])) as Record<string, TypeCheck<TSchema>>;
const ENVELOPE = TypeCompiler.Compile(Envelope);
const TYPES = EventType.anyOf.map((literal) => literal.const).join(', ');
/** The body schema documents the route; the handler checks it, to name the event and field at fault. */
const documentOnly = () => (value: unknown) => ({ value });

const Result = Type.Object({
  type: Type.String(),
  stream: Type.String(),
  stored: Type.Boolean({ description: 'false for transcode_progress: ephemeral, sent to who is connected, never stored' }),
  id: Type.Optional(Type.Integer()),
  offset: Type.Optional(Type.Integer()),
});

/** Sends one event through the NotificationService (also the in-process transcode publisher). */
export function publishEvent(notifications: NotificationService, event: PublishEvent): Promise<Delivery> {
  const { type, target, ...fields } = event;
  return notifications.publish(target, type, fields);
}

/** The event's target and wire fields (only those of its type), or a 400 naming the first problem. */
function parse(input: unknown, index: number): PublishEvent {
  const bad = (what: string) => invalid(`events[${index}]: ${what}`);
  if (!ENVELOPE.Check(input)) {
    const type = (input as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(type in CHECKS)) throw bad(`type must be one of ${TYPES}`);
    throw bad('target must be "admin", "all" or a user id');
  }
  const event = input;
  const target: Target = event.target === 'admin' || event.target === 'all' ? event.target : Number(event.target);
  if (typeof target === 'number' && target > MAX_INTEGER) throw bad(`target must be a user id up to ${MAX_INTEGER}`);
  const check = CHECKS[event.type];
  const { type: _type, target: _target, ...rest } = event as Record<string, unknown>;
  const error = check.Errors(rest).First();
  if (error) throw bad(`(${event.type}) ${error.path || 'body'} ${error.message}`);
  const known = Object.keys((FIELDS[event.type] as unknown as { properties: object }).properties);
  const fields: Record<string, unknown> = {};
  for (const key of known) if (rest[key] !== undefined) fields[key] = rest[key];
  if (event.type === MessageType.SYSTEM_MESSAGE) fields.level ??= 'info';
  return { type: event.type, target, ...fields };
}

export const eventRoutes: FastifyPluginAsyncTypebox<EventRouteDeps> = async (app, { notifications, store, guards }) => {
  app.post(
    '/api/v1/events',
    {
      preHandler: guards.adminOrService,
      validatorCompiler: documentOnly,
      schema: {
        tags: ['events'],
        summary: 'Publish events as a producer (admin token or HERALD_SERVICE_KEY): one event or an array of up to 500',
        description: [
          'Each event is `{type, target, ...fields}`; `target` is "admin", "all" or a user id. Fields per type:',
          '`transcode_progress`: video_id, status, progress (0-100), message, job_id?, user_id? (ephemeral: delivered live and kept as',
          "the job's current state, never stored; the answer says `stored: false` and has no id/offset);",
          '`transcode_complete`: video_id, title, format_type, file_size, job_id?; `transcode_failed`: video_id, title, error, job_id?;',
          '`system_message`: message, level? (default info). Other fields are dropped. All events are checked before any is sent;',
          'the answer lists, per event and in order, its stream and, when stored, its id and offset.',
        ].join(' '),
        security: bearer,
        body: Type.Union([Envelope, Type.Array(Envelope, { minItems: 1, maxItems: MAX_BATCH })]),
        response: { 202: Type.Object({ events: Type.Array(Result) }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const body: unknown = request.body;
      const batch = Array.isArray(body) ? body : [body];
      if (batch.length === 0 || batch.length > MAX_BATCH) throw invalid(`send one event or an array of 1 to ${MAX_BATCH}`);
      const events = batch.map(parse);
      const users = new Set(events.map((e) => e.target).filter((t): t is number => typeof t === 'number'));
      for (const id of users) {
        const user = await store.users.findById(id).catch(() => {
          throw unavailable('notification store unavailable; nothing was sent');
        });
        if (!user) throw notFound(`user ${id}`);
      }
      const results = [];
      for (const event of events) {
        const { stored } = await publishEvent(notifications, event);
        const record = stored[0];
        results.push(
          record
            ? { type: event.type, stream: record.stream, stored: true, id: record.id, offset: record.seq }
            : { type: event.type, stream: streamOf(event.target), stored: !EPHEMERAL_TYPES.has(event.type) },
        );
      }
      return reply.status(202).send({ events: results });
    },
  );
};
