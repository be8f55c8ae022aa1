import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthService } from '../auth/index.js';
import { notFound } from '../errors.js';
import type { Guards } from './guards.js';
import { bearer, CreateUserBody, errorResponses, IdParams, SetAdminBody, TokenPair, UserBody } from './schemas.js';

export interface AuthRouteDeps {
  auth: AuthService;
  guards: Guards;
  loginAttemptsPerMinute: number;
  /** Called after a user's admin flag changes or the user is deleted, on every node. */
  onUserChanged(userId: number): Promise<void>;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRouteDeps> = async (app, { auth, guards, loginAttemptsPerMinute, onUserChanged }) => {
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
    async (request) => request.principal!.user,
  );

  app.get(
    '/api/v1/users',
    { preHandler: guards.admin, schema: { tags: ['users'], security: bearer, response: { 200: Type.Array(UserBody), ...errorResponses } } },
    async () => auth.store.users.list(),
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
      return reply.status(201).send(user);
    },
  );

  app.patch(
    '/api/v1/users/:id',
    {
      preHandler: guards.admin,
      schema: {
        tags: ['users'],
        summary: 'Grant or revoke admin; a revoked admin loses their admin sockets at once',
        security: bearer,
        params: IdParams,
        body: SetAdminBody,
        response: { 200: UserBody, ...errorResponses },
      },
    },
    async (request) => {
      const user = await auth.store.users.setAdmin(request.params.id, request.body.is_admin);
      if (!user) throw notFound(`user ${request.params.id}`);
      await onUserChanged(user.id);
      return user;
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
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await auth.store.users.delete(request.params.id))) throw notFound(`user ${request.params.id}`);
      await onUserChanged(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
