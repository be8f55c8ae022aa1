import { ErrorCode } from '@herald/protocol';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError, conflict, invalid, notFound, unavailable } from '../errors.js';
import { HTTP_STATUS, registerErrorHandling } from './errors.js';

const app = Fastify({ logger: false });
const thrown: Record<string, () => Error> = {
  conflict: () => conflict('user "x" already exists'),
  invalid: () => invalid('password must be 8-256 characters'),
  missing: () => notFound('video 7'),
  down: () => unavailable('store unavailable'),
  detailed: () => new HeraldError(ErrorCode.VALIDATION, 'bad preset', { available: ['h264_720p'] }),
  internal: () => new HeraldError(ErrorCode.INTERNAL, 'secret internals'),
  crash: () => new Error('boom at /srv/herald/secret.ts'),
};

beforeAll(async () => {
  registerErrorHandling(app);
  app.get('/:name', async (request) => {
    throw thrown[(request.params as { name: string }).name]();
  });
  await app.ready();
});
afterAll(() => app.close());

async function get(name: string) {
  const res = await app.inject({ method: 'GET', url: `/${name}` });
  return { status: res.statusCode, body: res.json() };
}

describe('domain errors over HTTP', () => {
  it('answers each domain error with the status of its code and the same body shape', async () => {
    expect(await get('conflict')).toEqual({ status: 409, body: { error: 'ERR_CONFLICT', message: 'user "x" already exists', statusCode: 409 } });
    expect(await get('invalid')).toEqual({ status: 400, body: { error: 'ERR_VALIDATION', message: 'password must be 8-256 characters', statusCode: 400 } });
    expect(await get('missing')).toEqual({ status: 404, body: { error: 'ERR_NOT_FOUND', message: 'video 7 not found', statusCode: 404 } });
    expect(await get('down')).toMatchObject({ status: 503, body: { error: 'ERR_UNAVAILABLE' } });
  });

  it('passes details through and never leaks an internal message', async () => {
    expect((await get('detailed')).body).toEqual({ error: 'ERR_VALIDATION', message: 'bad preset', statusCode: 400, details: { available: ['h264_720p'] } });
    expect(await get('internal')).toEqual({ status: 500, body: { error: 'ERR_INTERNAL', message: 'internal server error', statusCode: 500 } });
    expect(await get('crash')).toEqual({ status: 500, body: { error: 'ERR_INTERNAL', message: 'internal server error', statusCode: 500 } });
  });

  it('has an HTTP status for every code of the catalogue', () => {
    for (const code of Object.values(ErrorCode)) expect(HTTP_STATUS[code], code).toBeGreaterThanOrEqual(400);
  });
});
