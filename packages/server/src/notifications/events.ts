import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { CUSTOM_EVENT_TYPE, EPHEMERAL_TYPES, LEVELS, MAX_EVENT_DATA_BYTES, isCustomEventType } from '@herald/protocol';
import { invalid } from '../errors.js';

/** Events in one publish request, at most. */
export const MAX_BATCH = 500;
/** User ids in one event's target list, at most. */
export const MAX_TARGET_USERS = 1000;

/** Who receives an event: the admins, everyone, one user, or each user of a list (own stream each). */
/** User ids are public ids as producers wrote them (integers as their decimal text); see `Identities`. */
export type EventTarget = 'admin' | 'all' | { users: string[] };

/** A checked event: its type, target, the fields that go on the wire, and whether it is stored. */
export interface ParsedEvent {
  type: string;
  target: EventTarget;
  fields: Record<string, unknown>;
  persist: boolean;
  /** Where the event was in its request (`body`, `events[3]`), for errors found later. */
  where?: string;
}

const JobId = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));
const VideoId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Level = Type.Union(LEVELS.map((level) => Type.Literal(level)));

/** The specification's four types and their wire fields; anything else in such an event is dropped. */
export const SPEC_FIELDS = {
  transcode_progress: Type.Object({
    video_id: VideoId,
    status: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'default "processing"' })),
    progress: Type.Number({ minimum: 0, maximum: 100 }),
    message: Type.Optional(Type.String({ maxLength: 2000, description: 'default ""' })),
    job_id: JobId,
    user_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    // Structured fields beside the Chinese message, rendered per locale by the console (docs: transcode_progress).
    format: Type.Optional(Type.String({ maxLength: 64 })),
    step: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    steps: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    skipped: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 20 })),
    source_width: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    source_height: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  }),
  transcode_complete: Type.Object({
    video_id: VideoId,
    title: Type.String({ maxLength: 200 }),
    format_type: Type.String({ minLength: 1, maxLength: 64 }),
    file_size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    job_id: JobId,
  }),
  transcode_failed: Type.Object({ video_id: VideoId, title: Type.String({ maxLength: 200 }), error: Type.String({ maxLength: 8000 }), job_id: JobId }),
  system_message: Type.Object({ message: Type.String({ minLength: 1, maxLength: 2000 }), level: Type.Optional(Level) }),
} satisfies Record<string, TSchema>;
type SpecType = keyof typeof SPEC_FIELDS;

/** The optional fields of the specification's types, as its producers may leave them out. */
const DEFAULTS: Partial<Record<SpecType, Record<string, unknown>>> = {
  transcode_progress: { status: 'processing', message: '' },
  system_message: { level: 'info' },
};

const CHECKS = Object.fromEntries(Object.entries(SPEC_FIELDS).map(([type, schema]) => [type, TypeCompiler.Compile(schema)])) as unknown as Record<SpecType, TypeCheck<TSchema>>;
const SPEC_TYPES = Object.keys(SPEC_FIELDS).join(', ');
const SPEC_KEYS = Object.fromEntries(Object.entries(SPEC_FIELDS).map(([type, schema]) => [type, Object.keys(schema.properties)])) as Record<SpecType, string[]>;
const MAX_USER_ID_LENGTH = 128;
const CUSTOM_FIELDS: ReadonlySet<string> = new Set(['type', 'target', 'data', 'persist']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSpecType = (type: string): type is SpecType => Object.hasOwn(SPEC_FIELDS, type);

/**
 * A user id as producers write it: a positive safe integer, or a string (`"123"`, a platform's
 * UUID). Whether a string names a user at all is `Identities`' rule, checked when targets resolve.
 */
function userId(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 1 ? String(value) : undefined;
  return typeof value === 'string' && value.length >= 1 && value.length <= MAX_USER_ID_LENGTH ? value : undefined;
}

function parseTarget(value: unknown, fallback: EventTarget | undefined): EventTarget | undefined {
  if (value === undefined) return fallback;
  if (value === 'admin' || value === 'all') return value;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > MAX_TARGET_USERS) return undefined;
  const ids = list.map(userId);
  if (ids.some((id) => id === undefined)) return undefined;
  return { users: [...new Set(ids as string[])] };
}

/**
 * Checks one event as producers send it (`{type, target, ...fields}`) and returns what is
 * published, or throws a 400 naming `where` and the field at fault. Without `target`, the
 * event goes to `defaultTarget` (the Redis channel: the admins) or is refused.
 */
export function parseEvent(input: unknown, where: string, defaultTarget?: EventTarget): ParsedEvent {
  const bad = (what: string) => invalid(`${where}: ${what}`);
  if (!isRecord(input)) throw bad('an event is a JSON object {type, target, ...}');
  const type = input.type;
  if (typeof type !== 'string' || !(isSpecType(type) || isCustomEventType(type))) {
    throw bad(`type must be one of ${SPEC_TYPES} or a custom type matching ${CUSTOM_EVENT_TYPE.source}`);
  }
  const target = parseTarget(input.target, defaultTarget);
  if (target === undefined) throw bad(`target must be "admin", "all", a user id or a list of 1 to ${MAX_TARGET_USERS} user ids`);
  return { ...(isSpecType(type) ? specEvent(type, target, input, bad) : customEvent(type, target, input, bad)), where };
}

function specEvent(type: SpecType, target: EventTarget, input: Record<string, unknown>, bad: (what: string) => Error): ParsedEvent {
  if (input.persist !== undefined) throw bad(`(${type}) persist is for custom types only: ${type} is ${EPHEMERAL_TYPES.has(type) ? 'never' : 'always'} stored`);
  // Check (compiled) first; the slower error walk only for a body that fails. The schemas
  // allow other properties, so `type` and `target` need not be copied out (a rest copy per event).
  if (!CHECKS[type].Check(input)) {
    const error = CHECKS[type].Errors(input).First();
    throw bad(`(${type}) ${error?.path || 'body'} ${error?.message ?? 'is not valid'}`);
  }
  const fields: Record<string, unknown> = {};
  for (const key of SPEC_KEYS[type]) {
    const value = input[key] ?? DEFAULTS[type]?.[key];
    if (value !== undefined) fields[key] = value;
  }
  return { type, target, fields, persist: !EPHEMERAL_TYPES.has(type) };
}

function customEvent(type: string, target: EventTarget, input: Record<string, unknown>, bad: (what: string) => Error): ParsedEvent {
  const stray = Object.keys(input).find((key) => !CUSTOM_FIELDS.has(key));
  if (stray !== undefined) throw bad(`(${type}) /${stray.slice(0, 64)} is not a field of a custom event: put it in data`);
  const data = input.data ?? {};
  if (!isRecord(data)) throw bad(`(${type}) /data must be a JSON object`);
  const bytes = Buffer.byteLength(JSON.stringify(data));
  if (bytes > MAX_EVENT_DATA_BYTES) throw bad(`(${type}) /data is ${bytes} bytes of JSON, over the limit of ${MAX_EVENT_DATA_BYTES}`);
  if (input.persist !== undefined && typeof input.persist !== 'boolean') throw bad(`(${type}) /persist must be true or false`);
  return { type, target, fields: { data }, persist: input.persist !== false };
}
