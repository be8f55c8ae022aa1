import Fastify from 'fastify';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandling } from './errors.js';
import { Level } from './schemas.js';

const app = Fastify({ logger: false });
/** A mixed union: constants and an integer. */
const Target = Type.Union([Type.Literal('admin'), Type.Literal('all'), Type.Integer({ minimum: 1 })]);

beforeAll(async () => {
  registerErrorHandling(app);
  const body = Type.Object({ title: Type.String({ minLength: 1 }), level: Type.Optional(Level), target: Type.Optional(Target) }, { additionalProperties: false });
  const querystring = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])) });
  app.post('/things', { schema: { body, querystring } }, async () => ({ ok: true }));
  await app.ready();
});
afterAll(() => app.close());

async function post(body: unknown, query = '') {
  const res = await app.inject({ method: 'POST', url: `/things${query}`, payload: body as object });
  return { status: res.statusCode, body: res.json() };
}

describe('validation errors', () => {
  it('collapses a union of constants into the allowed values, once', async () => {
    expect(await post({ title: 't', level: 'loud' })).toEqual({ status: 400, body: { error: 'ERR_VALIDATION', message: 'body.level must be one of info, success, warning, error', statusCode: 400 } });
  });

  it('lists constants and the other kinds a mixed union accepts', async () => {
    expect((await post({ title: 't', target: 'everyone' })).body.message).toBe('body.target must be one of admin, all or an integer >= 1');
    expect((await post({ title: 't', target: 0 })).body.message).toBe('body.target must be one of admin, all or an integer >= 1');
  });

  it('names a missing field and a querystring bound or value', async () => {
    expect((await post({})).body.message).toBe('body.title is required');
    expect((await post({ title: 't' }, '?limit=1000')).body.message).toBe('querystring.limit must be <= 100');
    expect((await post({ title: 't' }, '?order=up')).body.message).toBe('querystring.order must be one of asc, desc');
  });
});
