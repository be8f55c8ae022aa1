import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '@herald/testing/herald';
import { STORE_TARGETS } from '@herald/testing/stores';

// Integers beyond what both stores hold (PostgreSQL bigint, JS safe integers) are refused
// as 400 naming the field, never passed to the store (a 500 on PostgreSQL) or the broker.
const HUGE = '99999999999999999999';
const SERVICE_KEY = 'bounds-service-key-0123456789';

describe.each(STORE_TARGETS)('integer parameters on $name', (target) => {
  let herald: TestHerald;
  let dispose: () => Promise<void>;
  let admin: string;

  beforeAll(async () => {
    const location = await target.location();
    dispose = location.dispose;
    herald = await startHerald({ ...location.env, HERALD_SERVICE_KEY: SERVICE_KEY });
    admin = (await herald.user('boss', { admin: true })).token;
  });
  afterAll(async () => {
    await herald?.stop();
    await dispose?.();
  });

  async function call(method: string, path: string, body?: unknown, token = admin) {
    const res = await fetch(`${herald.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { error: string; message: string } };
  }

  const routes: Array<[string, string, string, unknown?]> = [
    ['GET', `/api/v1/notifications?cursor=${HUGE}`, 'cursor'],
    ['POST', `/api/v1/notifications/${HUGE}/read`, 'id'],
    ['PATCH', `/api/v1/users/${HUGE}`, 'id', { is_admin: true }],
    ['DELETE', `/api/v1/users/${HUGE}`, 'id'],
    ['GET', `/api/v1/videos/${HUGE}`, 'id'],
    ['POST', `/api/v1/videos/${HUGE}/transcode`, 'id', { formats: ['h264_720p'] }],
    ['POST', `/api/v1/videos/${HUGE}/transcode/cancel`, 'id'],
    ['GET', `/api/v1/videos/${HUGE}/transcode-status`, 'id'],
  ];

  it.each(routes)('%s %s beyond the safe range is a 400 naming %s', async (method, path, field, body) => {
    const res = await call(method, path, body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_VALIDATION');
    expect(res.body.message).toContain(field);
  });

  it('still takes the largest safe integer (a plain not-found, not a refusal)', async () => {
    expect((await call('GET', `/api/v1/notifications?cursor=${Number.MAX_SAFE_INTEGER}`)).status).toBe(200);
    expect((await call('GET', `/api/v1/videos/${Number.MAX_SAFE_INTEGER}`)).status).toBe(404);
    expect((await call('POST', `/api/v1/notifications/${Number.MAX_SAFE_INTEGER + 1}/read`)).status).toBe(400);
  });

  it('answers a publish to target 1e20 with 400 naming target, not a 503 that asks for a retry', async () => {
    const system = await call('POST', '/api/v1/notifications', '{"message":"hi","target":1e20}');
    expect(system.status).toBe(400);
    expect(system.body.message).toContain('target');
    for (const target of [1e20, '9999999999999999', Number.MAX_SAFE_INTEGER + 1]) {
      const events = await call('POST', '/api/v1/events', { type: 'system_message', target, message: 'hi' }, SERVICE_KEY);
      expect(events.status, `target ${target}`).toBe(400);
      expect(events.body.message).toContain('target');
    }
  });

  it('bounds the integer fields of events', async () => {
    const res = await call('POST', '/api/v1/events', { type: 'transcode_complete', target: 'admin', video_id: 1e20, title: 't', format_type: 'f', file_size: 1 }, SERVICE_KEY);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('video_id');
  });
});
