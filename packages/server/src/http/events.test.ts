import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, sleep, startHerald, type TestHerald, type TestSocket } from '@herald/testing/herald';

const SERVICE_KEY = 'events-service-key-0123456789';
let herald: TestHerald;
let admin: Awaited<ReturnType<TestHerald['user']>>;
let alice: Awaited<ReturnType<TestHerald['user']>>;
let adminSocket: TestSocket;
let aliceSocket: TestSocket;

beforeAll(async () => {
  herald = await startHerald({ HERALD_SERVICE_KEY: SERVICE_KEY });
  admin = await herald.user('boss', { admin: true });
  alice = await herald.user('alice');
  adminSocket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
  aliceSocket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${alice.token}`);
  await adminSocket.waitFor((m) => m.type === 'resumed');
  await aliceSocket.waitFor((m) => m.type === 'resumed');
});
afterAll(async () => {
  adminSocket.close();
  aliceSocket.close();
  await herald.stop();
});

async function post(body: unknown, token: string | null = SERVICE_KEY) {
  const res = await fetch(`${herald.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

describe('POST /api/v1/events', () => {
  it('takes the service key or an admin token, and refuses anonymous callers and plain users', async () => {
    const event = { type: 'system_message', target: 'admin', message: 'hello' };
    expect((await post(event, null)).status).toBe(401);
    expect((await post(event, alice.token)).status).toBe(403);
    expect((await post(event, 'wrong-key-0123456789-wrong')).status).toBe(401);
    expect((await post(event, admin.token)).status).toBe(202);
    expect((await post(event)).status).toBe(202);
  });

  it('delivers one event to a user given by a numeric string, answering with its stream, id and offset', async () => {
    const sent = await post({ type: 'system_message', target: String(alice.id), message: 'for alice', level: 'warning' });
    expect(sent).toMatchObject({ status: 202, body: { events: [{ type: 'system_message', stream: `user:${alice.id}`, stored: true }] } });
    const [result] = sent.body.events;
    const got = await aliceSocket.waitFor((m) => m.type === 'system_message' && m.message === 'for alice');
    expect(got).toMatchObject({ level: 'warning', id: result.id, stream: result.stream, offset: result.offset });
  });

  it('publishes a batch in order: progress live and unstored, completion and failure stored, only known fields on the wire', async () => {
    const batch = [
      { type: 'transcode_progress', target: 'admin', video_id: 9, status: 'processing', progress: 40, message: '正在转码 720p (1/1)', job_id: 'j9', user_id: alice.id },
      { type: 'transcode_progress', target: alice.id, video_id: 9, status: 'processing', progress: 40, message: '正在转码 720p (1/1)', job_id: 'j9', user_id: alice.id },
      { type: 'transcode_complete', target: 'admin', video_id: 9, title: 'Clip', format_type: 'h264_720p', file_size: 1024, job_id: 'j9', secret: 'dropped' },
      { type: 'transcode_failed', target: 'all', video_id: 10, title: 'Other', error: 'FFmpeg process exited with code 1' },
    ];
    const sent = await post(batch);
    expect(sent.status).toBe(202);
    const [tick, aliceTick, complete, failed] = sent.body.events;
    expect(tick).toEqual({ type: 'transcode_progress', stream: 'admins', stored: false, deliveries: [{ stream: 'admins' }] });
    expect(aliceTick).toEqual({ type: 'transcode_progress', stream: `user:${alice.id}`, stored: false, deliveries: [{ stream: `user:${alice.id}` }] });
    expect(complete).toMatchObject({ type: 'transcode_complete', stream: 'admins', stored: true, id: expect.any(Number), offset: expect.any(Number) });
    expect(failed).toMatchObject({ type: 'transcode_failed', stream: 'broadcast', stored: true });

    expect(await adminSocket.waitFor((m) => m.type === 'transcode_progress' && m.job_id === 'j9')).toMatchObject({ video_id: 9, status: 'processing', progress: 40, user_id: alice.id });
    const wire = await adminSocket.waitFor((m) => m.type === 'transcode_complete' && m.job_id === 'j9');
    expect(wire).toMatchObject({ video_id: 9, title: 'Clip', format_type: 'h264_720p', file_size: 1024, id: complete.id, offset: complete.offset });
    expect(wire).not.toHaveProperty('secret');
    expect(await aliceSocket.waitFor((m) => m.type === 'transcode_progress' && m.job_id === 'j9')).toMatchObject({ progress: 40 });
    expect(await aliceSocket.waitFor((m) => m.type === 'transcode_failed')).toMatchObject({ video_id: 10, error: 'FFmpeg process exited with code 1', id: failed.id });
    // The tick is the job's current state on the node, for snapshots and the polling endpoint.
    expect(herald.notifications.progress.latest('j9')).toMatchObject({ progress: 40 });
  });

  it('checks every event before sending any: unknown type, missing field, bad target, unknown user, oversized batch', async () => {
    const before = adminSocket.received.length;
    const ok = { type: 'system_message', target: 'admin', message: 'must not arrive' };
    expect(await post([ok, { type: 'Custom Thing', target: 'admin' }])).toMatchObject({
      status: 400,
      body: { error: 'ERR_VALIDATION', message: expect.stringContaining('events[1]: type must be one of transcode_progress, transcode_complete, transcode_failed, system_message or a custom type matching') },
    });
    expect(await post([ok, { type: 'stats', target: 'admin' }])).toMatchObject({ status: 400, body: { message: expect.stringContaining('events[1]: type must be') } });
    const missing = await post([ok, { type: 'transcode_complete', target: 'admin', video_id: 1, title: 't', format_type: 'x' }]);
    expect(missing).toMatchObject({ status: 400, body: { error: 'ERR_VALIDATION', message: expect.stringContaining('events[1]: (transcode_complete) /file_size') } });
    expect(await post([ok, { ...ok, target: 'nobody' }])).toMatchObject({ status: 400, body: { message: 'events[1]: target must be "admin", "all", a user id or a list of 1 to 1000 user ids' } });
    expect((await post([ok, { ...ok, target: ['0123'] }])).status).toBe(400);
    expect((await post([ok, { ...ok, target: [] }])).status).toBe(400);
    expect((await post([ok, { ...ok, target: 'users' }])).status).toBe(400);
    expect((await post({ type: 'transcode_progress', target: 'admin', video_id: 1, status: 'processing', progress: 101, message: '' })).status).toBe(400);
    expect(await post([ok, { ...ok, target: 999_999 }])).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND', details: { unknown_user_ids: [999_999] } } });
    expect((await post(Array.from({ length: 501 }, () => ok))).status).toBe(400);
    expect((await post([])).status).toBe(400);
    await sleep(200);
    expect(adminSocket.received.slice(before)).toEqual([]);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = await (await fetch(`${herald.url}/docs/json`)).json();
    const op = doc.paths['/api/v1/events'].post;
    expect(op.tags).toEqual(['events']);
    expect(op.description).toContain('transcode_progress');
    expect(Object.keys(op.responses)).toContain('202');
  });
});
