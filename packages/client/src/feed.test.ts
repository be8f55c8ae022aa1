import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { HeraldClient, type HeraldClientOptions } from './client.js';
import { NotificationFeed } from './feed.js';
import { TestServer, waitFor } from '@herald/testing/fake-server';

let server: TestServer;
let client: HeraldClient;

beforeEach(async () => {
  server = await TestServer.start();
  client = new HeraldClient({
    url: server.url,
    getToken: () => 'good',
    WebSocket: WebSocket as unknown as HeraldClientOptions['WebSocket'],
    onlineSource: null,
  });
  await waitFor(() => client.isConnected);
});

afterEach(async () => {
  client.close();
  await server.close();
});

describe('NotificationFeed', () => {
  it('keeps a multi-format job in progress until its final completed tick', async () => {
    const feed = new NotificationFeed(client);
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 5, job_id: 'j', status: 'processing', progress: 50, message: '720p done' });
    conn.send({ type: 'transcode_complete', video_id: 5, job_id: 'j', title: 'v', format_type: 'h264_720p', file_size: 9, id: 1, stream: 'admins', offset: 1 });
    await waitFor(() => feed.getSnapshot().notifications.length === 1);
    expect(feed.getSnapshot().transcodeProgress.get(5)).toMatchObject({ status: 'processing', progress: 50, job_id: 'j' });
    conn.send({ type: 'transcode_progress', video_id: 5, job_id: 'j', status: 'completed', progress: 100, message: 'all done' });
    await waitFor(() => feed.getSnapshot().transcodeProgress.get(5)?.status === 'completed');
    // A specification-style producer sends only transcode_complete, without a job id.
    conn.send({ type: 'transcode_complete', video_id: 6, title: 'w', format_type: 'av1', file_size: 9, id: 2, stream: 'admins', offset: 2 });
    await waitFor(() => feed.getSnapshot().transcodeProgress.get(6)?.status === 'completed');
    feed.dispose();
  });

  it('keeps the latest progress per video and the recent notifications, newest first, bounded', async () => {
    const feed = new NotificationFeed(client, { limit: 2 });
    const snapshots: unknown[] = [];
    feed.subscribe(() => snapshots.push(feed.getSnapshot()));
    const conn = await server.connection(0);
    conn.send({ type: 'transcode_progress', video_id: 1, status: 'processing', progress: 10, message: 'a' });
    conn.send({ type: 'transcode_progress', video_id: 1, status: 'processing', progress: 20, message: 'b' });
    conn.send({ type: 'transcode_progress', video_id: 2, status: 'processing', progress: 70, message: 'c' });
    conn.send({ type: 'transcode_failed', video_id: 2, title: 'v2', error: 'codec', id: 1, stream: 'broadcast', offset: 1 });
    conn.send({ type: 'transcode_complete', video_id: 1, title: 'v1', format_type: 'av1', file_size: 9, id: 2, stream: 'broadcast', offset: 2 });
    conn.send({ type: 'system_message', message: 'hi', level: 'info', id: 3, stream: 'broadcast', offset: 3 });
    await waitFor(() => feed.getSnapshot().notifications.length === 2 && feed.getSnapshot().notifications[0].type === 'system_message');
    const { notifications, transcodeProgress } = feed.getSnapshot();
    expect(notifications.map((n) => n.type)).toEqual(['system_message', 'transcode_complete']);
    expect(transcodeProgress.get(1)).toMatchObject({ status: 'completed', progress: 100 });
    expect(transcodeProgress.get(2)).toMatchObject({ status: 'failed', progress: 70, message: 'codec' });
    // every change is a new immutable snapshot
    expect(new Set(snapshots).size).toBe(snapshots.length);
    feed.dispose();
  });

  it('stops following the client after dispose', async () => {
    const feed = new NotificationFeed(client);
    feed.dispose();
    (await server.connection(0)).send({ type: 'system_message', message: 'x', level: 'info' });
    await new Promise((r) => setTimeout(r, 30));
    expect(feed.getSnapshot().notifications).toHaveLength(0);
  });
});
