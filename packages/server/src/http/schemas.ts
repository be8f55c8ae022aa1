import { Type, type Static } from '@sinclair/typebox';

/**
 * The largest integer a request may carry: what both stores hold exactly (JavaScript's safe
 * integers; PostgreSQL's bigint reaches further). Larger values are a 400 naming the field.
 */
export const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

/** A row id (user, notification, video) in a path, query or body: 1..MAX_INTEGER. */
export const Id = (options: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: MAX_INTEGER, ...options });

/** A count or size: 0..MAX_INTEGER. */
export const Count = () => Type.Integer({ minimum: 0, maximum: MAX_INTEGER });

/** `{ id }` path parameters. */
export const IdParams = Type.Object({ id: Id() });

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'an ERR_* code' }),
    message: Type.String(),
    statusCode: Type.Integer(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Error', description: 'Every error response' },
);

/** A public user id: an opaque string on the wire and in every answer (docs/identity.md). */
export const UserId = Type.String({ minLength: 1, maxLength: 135, description: 'a user id: opaque string ("123", a UUID, "herald:1")' });

export const UserBody = Type.Object({
  id: UserId,
  username: Type.String(),
  is_admin: Type.Boolean(),
  created_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const TokenPair = Type.Object({
  access_token: Type.String(),
  refresh_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer({ description: 'access token lifetime in seconds' }),
  user: UserBody,
});

export const ConnectionStatsBody = Type.Object({
  total_users: Type.Integer(),
  total_user_connections: Type.Integer(),
  total_admin_connections: Type.Integer(),
  total_connections: Type.Integer(),
  transports: Type.Optional(Type.Object({ ws: Type.Integer(), sse: Type.Integer() }, { description: 'connections by transport' })),
});

export const Positions = Type.Record(Type.String(), Type.Integer(), { description: 'stream → offset' });

export const UnreadBody = Type.Object({
  unread_count: Type.Integer(),
  unread_positions: Positions,
});

export const NotificationBody = Type.Object(
  {
    id: Type.Integer(),
    type: Type.String(),
    stream: Type.String(),
    offset: Type.Integer(),
    timestamp: Type.String(),
    read: Type.Boolean(),
  },
  { additionalProperties: true, description: 'A persisted notification: its wire fields plus read state' },
);

export const Level = Type.Union([Type.Literal('info'), Type.Literal('success'), Type.Literal('warning'), Type.Literal('error')]);

export const Target = Type.Union(
  [Type.Literal('admin'), Type.Literal('all'), Type.Integer({ minimum: 1, maximum: MAX_INTEGER, description: 'a user id' }), Type.String({ minLength: 1, maxLength: 135, description: 'a user id' })],
  { description: '"admin", "all" or a user id (`123` and `"123"` name the same user)' },
);

export const StatsBody = Type.Intersect([ConnectionStatsBody, Type.Object({ nodes: Type.Optional(Type.Record(Type.String(), ConnectionStatsBody)) })]);

export const InboxPage = Type.Object({
  items: Type.Array(NotificationBody),
  next_cursor: Type.Union([Type.Integer(), Type.Null()]),
  ...UnreadBody.properties,
});

export const PublishBody = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 2000 }),
    level: Type.Optional(Level),
    target: Type.Optional(Target),
  },
  { additionalProperties: false },
);

export const PublishAccepted = Type.Object({ ids: Type.Array(Type.Integer()), stream: Type.String(), offset: Type.Integer() });

export const CreateUserBody = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' }),
  password: Type.String({ minLength: 8, maxLength: 256 }),
  is_admin: Type.Optional(Type.Boolean({ default: false })),
});

export const SetAdminBody = Type.Object({ is_admin: Type.Boolean() });

/** `PATCH /api/v1/users/{id}`: the admin flag, a new password, or both. */
export const UpdateUserBody = Type.Object(
  { is_admin: Type.Optional(Type.Boolean()), password: Type.Optional(Type.String({ minLength: 8, maxLength: 256 })) },
  { additionalProperties: false, minProperties: 1 },
);

// ---- the bodies as TypeScript types, for clients (the admin console imports them type-only
// from `@herald/server/schemas`, so its API types cannot drift from what the server validates) ----

export type ErrorBodyT = Static<typeof ErrorBody>;
export type UserBodyT = Static<typeof UserBody>;
export type TokenPairT = Static<typeof TokenPair>;
export type StatsBodyT = Static<typeof StatsBody>;
export type UnreadBodyT = Static<typeof UnreadBody>;
export type NotificationBodyT = Static<typeof NotificationBody>;
export type InboxPageT = Static<typeof InboxPage>;
export type PublishBodyT = Static<typeof PublishBody>;
export type PublishAcceptedT = Static<typeof PublishAccepted>;
export type CreateUserBodyT = Static<typeof CreateUserBody>;
export type SetAdminBodyT = Static<typeof SetAdminBody>;
export type UpdateUserBodyT = Static<typeof UpdateUserBody>;
export type LevelT = Static<typeof Level>;
export type TargetT = Static<typeof Target>;

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

export const bearer = [{ bearerAuth: [] }];
