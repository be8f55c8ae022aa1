import { Type, type Static } from '@sinclair/typebox';

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'an ERR_* code' }),
    message: Type.String(),
    statusCode: Type.Integer(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'Error', description: 'Every error response' },
);

export const UserBody = Type.Object({
  id: Type.Integer(),
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

export const Target = Type.Union([Type.Literal('admin'), Type.Literal('all'), Type.Integer({ minimum: 1, description: 'a user id' })], {
  description: '"admin", "all" or a user id',
});

export type UserBodyT = Static<typeof UserBody>;

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

export const bearer = [{ bearerAuth: [] }];
