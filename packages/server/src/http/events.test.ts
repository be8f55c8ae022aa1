import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpPublisher } from '@herald/transcode';
import { openSocket, sleep, startHerald, until, type TestHerald, type TestSocket } from '@herald/testing/herald';

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

async function post(body: unknown, token: string | null = SERVICE_KEY, headers: Record<string, string> = {}) {
  const res = await fetch(`${herald.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), replayed: res.headers.get('idempotent-replayed') };
}

async function inbox(token: string) {
  return (await fetch(`${herald.url}/api/v1/notifications?limit=100`, { headers: { authorization: `Bearer ${token}` } })).json();
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
    expect(await post([ok, { ...ok, target: 'nobody' }])).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^events\[1\]\.target must be one of admin, all or a user id .*not user ids: "nobody"/) } });
    expect((await post([ok, { ...ok, target: ['0123'] }])).status).toBe(400);
    expect((await post([ok, { ...ok, target: [] }])).status).toBe(400);
    expect((await post([ok, { ...ok, target: 'users' }])).status).toBe(400);
    expect((await post({ type: 'transcode_progress', target: 'admin', video_id: 1, status: 'processing', progress: 101, message: '' })).status).toBe(400);
    expect(await post([ok, { ...ok, target: 999_999 }])).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND', details: { unknown_user_ids: ['999999'] } } });
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
    expect(op.description).toContain('custom type');
    expect(JSON.stringify(op.requestBody)).toContain('persist');
    expect(op.parameters.map((p: { name: string }) => p.name)).toContain('idempotency-key');
    expect(Object.keys(op.responses)).toContain('202');
  });

  it("defaults a progress's status to processing and its message to empty, as the specification's producers leave them out", async () => {
    expect((await post({ type: 'transcode_progress', target: 'admin', video_id: 123, progress: 45 })).status).toBe(202);
    const got = await adminSocket.waitFor((m) => m.type === 'transcode_progress' && m.video_id === 123);
    expect(got).toMatchObject({ status: 'processing', progress: 45, message: '', timestamp: expect.any(String) });
  });

  it('sends each specification type to a user, the admins and everyone with the specification field names', async () => {
    const fields = {
      transcode_complete: { video_id: 5, title: 'T', format_type: 'h264_720p', file_size: 10 },
      transcode_failed: { video_id: 5, title: 'T', error: 'boom' },
      system_message: { message: 'hi', level: 'success' },
    };
    for (const [type, f] of Object.entries(fields)) {
      for (const target of [alice.id, 'admin', 'all']) expect((await post({ type, target, ...f })).status).toBe(202);
      const forAlice = await aliceSocket.waitFor((m) => m.type === type && m.stream === `user:${alice.id}`);
      expect(forAlice).toMatchObject({ ...f, id: expect.any(Number), offset: expect.any(Number), timestamp: expect.any(String) });
      expect(await aliceSocket.waitFor((m) => m.type === type && m.stream === 'broadcast')).toMatchObject(f);
      expect(await adminSocket.waitFor((m) => m.type === type && m.stream === 'admins')).toMatchObject(f);
    }
  });

  it('delivers custom types with their data, stored (and in the inbox) unless persist is false', async () => {
    const sent = await post([
      { type: 'order.shipped', target: alice.id, data: { order: 42, url: '/orders/42' } },
      { type: 'chat:typing', target: alice.id, data: { who: 'bob' }, persist: false },
    ]);
    expect(sent.status).toBe(202);
    const [stored, live] = sent.body.events;
    expect(stored).toMatchObject({ type: 'order.shipped', stored: true, stream: `user:${alice.id}`, id: expect.any(Number) });
    expect(live).toEqual({ type: 'chat:typing', stored: false, stream: `user:${alice.id}`, deliveries: [{ stream: `user:${alice.id}` }] });
    expect(await aliceSocket.waitFor((m) => m.type === 'order.shipped')).toMatchObject({ data: { order: 42, url: '/orders/42' }, id: stored.id, offset: stored.offset });
    const typing = await aliceSocket.waitFor((m) => m.type === 'chat:typing');
    expect(typing).toMatchObject({ data: { who: 'bob' } });
    expect(typing).not.toHaveProperty('offset');
    const items = (await inbox(alice.token)).items;
    expect(items.find((i: { id: number }) => i.id === stored.id)).toMatchObject({ type: 'order.shipped', data: { order: 42 }, read: false });
    expect(items.some((i: { type: string }) => i.type === 'chat:typing')).toBe(false);
    const filtered = await (await fetch(`${herald.url}/api/v1/notifications?type=order.shipped`, { headers: { authorization: `Bearer ${alice.token}` } })).json();
    expect(filtered.items.map((i: { type: string }) => i.type)).toEqual(['order.shipped']);
  });

  it('refuses a custom event with a stray field, data that is not an object or over 8 KiB, naming the field', async () => {
    const big = { blob: 'x'.repeat(8200) };
    expect(await post({ type: 'a.b', target: 'admin', data: big })).toMatchObject({ status: 400, body: { message: expect.stringMatching(/^events\[0\]: \(a\.b\) \/data is \d+ bytes of JSON, over the limit of 8192$/) } });
    expect(await post({ type: 'a.b', target: 'admin', data: [1] })).toMatchObject({ status: 400, body: { message: 'events[0]: (a.b) /data must be a JSON object' } });
    expect(await post({ type: 'a.b', target: 'admin', message: 'x' })).toMatchObject({ status: 400, body: { message: expect.stringContaining('/message is not a field of a custom event') } });
    expect(await post({ type: 'a.b', target: 'admin', persist: 'no' })).toMatchObject({ status: 400, body: { message: 'events[0]: (a.b) /persist must be true or false' } });
    expect((await post({ type: 'system_message', target: 'admin', message: 'x', persist: false })).status).toBe(400);
  });

  it('delivers to each user of a list of ids ("123" is 123), and stores nothing when one is unknown', async () => {
    const bob = await herald.user('bob-list');
    const bobSocket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${bob.token}`);
    await bobSocket.waitFor((m) => m.type === 'resumed');
    const sent = await post({ type: 'system_message', target: [String(alice.id), bob.id, alice.id], message: 'to both' });
    expect(sent.body.events[0].deliveries).toEqual([
      { stream: `user:${alice.id}`, id: expect.any(Number), offset: expect.any(Number) },
      { stream: `user:${bob.id}`, id: expect.any(Number), offset: expect.any(Number) },
    ]);
    expect(await aliceSocket.waitFor((m) => m.message === 'to both')).toMatchObject({ stream: `user:${alice.id}` });
    expect(await bobSocket.waitFor((m) => m.message === 'to both')).toMatchObject({ stream: `user:${bob.id}` });

    const before = (await inbox(bob.token)).items.length;
    const refused = await post([
      { type: 'system_message', target: bob.id, message: 'never' },
      { type: 'system_message', target: [bob.id, 888_887, 888_888], message: 'never' },
    ]);
    expect(refused).toMatchObject({ status: 404, body: { error: 'ERR_NOT_FOUND', message: expect.stringContaining('888887, 888888'), details: { unknown_user_ids: ['888887', '888888'] } } });
    expect((await inbox(bob.token)).items.length).toBe(before);
    bobSocket.close();
  });

  it('stores a batch of 500 at once and answers with each id and offset in order, delivered in that order', async () => {
    const batch = Array.from({ length: 500 }, (_, i) => ({ type: 'bulk.item', target: alice.id, data: { i } }));
    const sent = await post(batch);
    expect(sent.status).toBe(202);
    const offsets = sent.body.events.map((e: { offset: number }) => e.offset);
    expect(offsets).toEqual(Array.from({ length: 500 }, (_, i) => offsets[0] + i));
    await until(() => aliceSocket.of('bulk.item').length === 500);
    expect(aliceSocket.of('bulk.item').map((m) => m.offset)).toEqual(offsets);
  });

  it('refuses a body over the documented 1 MiB with 413', async () => {
    const batch = Array.from({ length: 200 }, () => ({ type: 'big.item', target: 'admin', data: { blob: 'x'.repeat(6000) } }));
    expect(await post(batch)).toMatchObject({ status: 413, body: { error: 'ERR_TOO_LARGE' } });
  });

  it('replays the first answer for the same caller, key and body; 422 for another body; other callers have their own keys', async () => {
    const event = { type: 'system_message', target: 'admin', message: 'once only' };
    const key = { 'idempotency-key': 'order-7' };
    const first = await post(event, SERVICE_KEY, key);
    const again = await post(event, SERVICE_KEY, key);
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: first.body, replayed: 'true' });
    const changed = await post({ ...event, message: 'something else' }, SERVICE_KEY, key);
    expect(changed).toMatchObject({ status: 422, body: { error: 'ERR_IDEMPOTENCY_CONFLICT', message: expect.stringContaining('order-7') } });
    const byAdmin = await post({ ...event, message: 'admin own' }, admin.token, key);
    expect(byAdmin.status).toBe(202);
    expect(byAdmin.replayed).toBeNull();
    expect(byAdmin.body.events[0].id).not.toBe(first.body.events[0].id);
    await sleep(200);
    expect(adminSocket.of('system_message').filter((m) => m.message === 'once only')).toHaveLength(1);
    expect(adminSocket.of('system_message').filter((m) => m.message === 'something else')).toHaveLength(0);
  });

  it("still reaches the admins from an external transcoder whose uploader no longer exists", async () => {
    const publisher = new HttpPublisher({ url: herald.url, serviceKey: SERVICE_KEY, attempts: 1 });
    await publisher.publish({ type: 'transcode_complete', job_id: 'gone-1', video_id: 66, title: 'Orphan', format_type: 'h264_480p', file_size: 1, user_id: 999_999 });
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_complete' && m.job_id === 'gone-1')).toMatchObject({ video_id: 66, stream: 'admins' });
  });
});
