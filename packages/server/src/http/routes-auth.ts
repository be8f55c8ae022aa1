import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthService } from '../auth/index.js';
import { invalid, notFound } from '../errors.js';
import type { User } from '../store/index.js';
import type { Guards } from './guards.js';
import { bearer, CreateUserBody, errorResponses, UpdateUserBody, TokenPair, UserBody } from './schemas.js';

export interface AuthRouteDeps {
  auth: AuthService;
  guards: Guards;
  loginAttemptsPerMinute: number;
  /** Called after a user's admin flag changes or the user is deleted, on every node. */
  onUserChanged(userId: number): Promise<void>;
  /** Closes the user's sockets on every node with 4001 (`reason`). */
  onUserRevoked(userId: number, reason: string): Promise<void>;
}

const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 135, description: 'a public user id' }) });

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteDeps> = async (app, { auth, guards, loginAttemptsPerMinute, onUserChanged, onUserRevoked }) => {
  const body = (user: User) => ({ ...user, id: auth.identities.wireId(user) });
  /** The Herald account or platform user a path names; 404 when there is none. */
  const userAt = async (id: string, provision = false): Promise<User> => {
    const { users, invalid: bad } = await auth.identities.resolvePublicIds([id], { provision });
    if (bad.length > 0) throw invalid(`"${id.slice(0, 40)}" is not a user id`);
    const user = users.get(id);
    if (!user) throw notFound(`user ${id.slice(0, 40)}`);
    return user;
  };

  app.post(
    '/api/v1/auth/login',
    {
      config: { rateLimit: { max: loginAttemptsPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password',
        body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 200: TokenPair, ...errorResponses },
      },
    },
    async (request) => auth.login(request.body.username, request.body.password),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      config: { rateLimit: { max: loginAttemptsPerMinute * 6, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Exchange a refresh token for a new pair (each refresh token works once)',
        body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 4096 }) }),
        response: { 200: TokenPair, ...errorResponses },
      },
    },
    async (request) => auth.refresh(request.body.refresh_token),
  );

  app.get(
    '/api/v1/auth/me',
    { preHandler: guards.user, schema: { tags: ['auth'], security: bearer, response: { 200: UserBody, ...errorResponses } } },
    async (request) => ({ ...request.principal!.user, id: auth.identities.wireId(request.principal!.user) }),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      config: { rateLimit: { max: loginAttemptsPerMinute * 6, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        summary: 'Sign out: revokes the refresh token and every token rotated from the same sign-in',
        body: Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 4096 }) }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await auth.logout(request.body.refresh_token);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/:id/disconnect',
    {
      preHandler: guards.adminOrService,
      schema: {
        tags: ['users'],
        summary: "Close the user's sockets on every node (4001 \"revoked\") and refuse their tokens issued until now",
        security: bearer,
        params: UserParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await userAt(request.params.id, true);
      await auth.revokeTokens(user.id);
      await onUserRevoked(user.id, 'revoked');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/users',
    { preHandler: guards.admin, schema: { tags: ['users'], security: bearer, response: { 200: Type.Array(UserBody), ...errorResponses } } },
    async () => (await auth.store.users.list()).map(body),
  );

  app.post(
    '/api/v1/users',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['users'],
        security: bearer,
        body: CreateUserBody,
        response: { 201: UserBody, ...errorResponses, 409: errorResponses[400] },
      },
    },
    async (request, reply) => {
      const user = await auth.createUser(request.body.username, request.body.password, request.body.is_admin ?? false);
      return reply.status(201).send(body(user));
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['users'],
        summary:
          'Grant or revoke admin (a revoked admin loses admin scope on every socket at once) or set a password (ends every session of the user: refresh tokens revoked, sockets closed with 4001)',
        security: bearer,
        params: UserParams,
        body: UpdateUserBody,
        response: { 200: UserBody, ...errorResponses },
      },
    },
    async (request) => {
      let user = await userAt(request.params.id);
      if (user.source === 'platform') throw invalid('platform users get admin rights from their tokens and have no Herald password');
      if (request.body.password !== undefined) {
        await auth.changePassword(user.id, request.body.password);
        await onUserRevoked(user.id, 'password changed');
      }
      if (request.body.is_admin !== undefined) {
        user = (await auth.store.users.setAdmin(user.id, request.body.is_admin)) ?? user;
        await onUserChanged(user.id);
      }
      return body(user);
    },
  );

  app.delete(
    '/api/v1/users/:id',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['users'],
        summary: 'Delete a user; their sockets are closed with 4001',
        security: bearer,
        params: UserParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await userAt(request.params.id);
      if (!(await auth.store.users.delete(user.id))) throw notFound(`user ${request.params.id}`);
      await onUserChanged(user.id);
      return reply.status(204).send(null);
    },
  );
};
