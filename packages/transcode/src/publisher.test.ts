import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HttpPublisher, hubEvents, inProcessPublisher, type HubEvent, type TranscodeEvent } from './publisher.js';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

const progress: TranscodeEvent = { type: 'transcode_progress', job_id: 'j1', video_id: 3, status: 'processing', progress: 120, message: 'm', user_id: 5 };
const complete: TranscodeEvent = { type: 'transcode_complete', job_id: 'j1', video_id: 3, title: 'T', format_type: 'h264_480p', file_size: 10, user_id: 5 };

describe('hubEvents', () => {
  it('sends to the admins and to the uploader; progress is clamped and keeps user_id, completion drops it', () => {
    expect(hubEvents(progress)).toEqual([
      { type: 'transcode_progress', target: 'admin', video_id: 3, status: 'processing', progress: 100, message: 'm', job_id: 'j1', user_id: 5 },
      { type: 'transcode_progress', target: 5, video_id: 3, status: 'processing', progress: 100, message: 'm', job_id: 'j1', user_id: 5 },
    ]);
    const { user_id: _u, ...noOwner } = complete;
    expect(hubEvents(noOwner)).toEqual([{ type: 'transcode_complete', target: 'admin', video_id: 3, title: 'T', format_type: 'h264_480p', file_size: 10, job_id: 'j1' }]);
  });

  it('carries progress structured fields beside the message', () => {
    const structured: TranscodeEvent = { ...progress, progress: 50, user_id: undefined, format: '480p', step: 1, steps: 1, skipped: ['720p'], source_width: 320, source_height: 240 };
    expect(hubEvents(structured)).toEqual([
      { type: 'transcode_progress', target: 'admin', video_id: 3, status: 'processing', progress: 50, message: 'm', job_id: 'j1', format: '480p', step: 1, steps: 1, skipped: ['720p'], source_width: 320, source_height: 240 },
    ]);
  });

  it('the in-process publisher calls the host once per receiver, in order', async () => {
    const sent: HubEvent[] = [];
    await inProcessPublisher(async (e) => sent.push(e)).publish(complete);
    expect(sent.map((e) => e.target)).toEqual(['admin', 5]);
  });
});

describe('HttpPublisher against a scripted endpoint', () => {
  let server: Server;
  let url = '';
  let answers: number[] = [];
  const requests: Array<{ auth: string | undefined; body: unknown }> = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        requests.push({ auth: req.headers.authorization, body: JSON.parse(body) });
        res.writeHead(answers.shift() ?? 202, { 'content-type': 'application/json' }).end('{"events":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterEach(() => {
    requests.length = 0;
    answers = [];
  });
  afterAll(() => server.close());

  it('retries a completion after 5xx until it is accepted, with the service key', async () => {
    answers = [503, 500];
    await new HttpPublisher({ url, serviceKey: 'k'.repeat(20) }).publish(complete);
    expect(requests).toHaveLength(3);
    expect(requests.every((r) => r.auth === `Bearer ${'k'.repeat(20)}`)).toBe(true);
    // The uploader goes over the API as a Herald account (`herald:<id>`): never a platform user's bare id.
    expect(requests[2].body).toEqual(hubEvents(complete).map((e) => (typeof e.target === 'number' ? { ...e, target: `herald:${e.target}` } : e)));
  });

  it('sends a plain tick once, and gives up at once on a 4xx', async () => {
    answers = [503];
    await expect(new HttpPublisher({ url, serviceKey: 'k' }).publish(progress)).rejects.toThrow(/HTTP 503/);
    expect(requests).toHaveLength(1);
    answers = [401];
    await expect(new HttpPublisher({ url, serviceKey: 'k' }).publish(complete)).rejects.toThrow(/HTTP 401/);
    expect(requests).toHaveLength(2);
  });

  it('retries a terminal status tick', async () => {
    answers = [502];
    await new HttpPublisher({ url, serviceKey: 'k' }).publish({ ...progress, status: 'completed', progress: 100 });
    expect(requests).toHaveLength(2);
  });
});

describe('HttpPublisher against a real node', () => {
  const KEY = 'publisher-test-key-0123456789';
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHerald({ HERALD_SERVICE_KEY: KEY });
  });
  afterAll(() => herald.stop());

  it("reaches the admins' and the uploader's WebSockets", async () => {
    const admin = await herald.user('boss', { admin: true });
    const owner = await herald.user('owner');
    const adminSocket = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${admin.token}`);
    const ownerSocket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${owner.token}`);
    await adminSocket.waitFor((m) => m.type === 'resumed');
    await ownerSocket.waitFor((m) => m.type === 'resumed');
    const publisher = new HttpPublisher({ url: herald.url, serviceKey: KEY });
    await publisher.publish({ ...progress, user_id: owner.id, progress: 30 });
    await publisher.publish({ ...complete, user_id: owner.id });
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_progress')).toMatchObject({ video_id: 3, progress: 30, job_id: 'j1' });
    expect(await ownerSocket.waitFor((m) => m.type === 'transcode_progress')).toMatchObject({ progress: 30 });
    expect(await adminSocket.waitFor((m) => m.type === 'transcode_complete')).toMatchObject({ format_type: 'h264_480p', stream: 'admins' });
    expect(await ownerSocket.waitFor((m) => m.type === 'transcode_complete')).toMatchObject({ format_type: 'h264_480p', stream: `user:${owner.id}` });
    adminSocket.close();
    ownerSocket.close();
  });
});
