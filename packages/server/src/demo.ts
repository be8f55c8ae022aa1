import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { makeTestVideo } from '@herald/transcode/make-test-video';

/**
 * `herald demo`: makes a short test video with ffmpeg's own sources, uploads it to a
 * running Herald and transcodes it, printing what the admin WebSocket pushes.
 */
export async function runDemo(baseUrl: string, token: string, print: (line: string) => void): Promise<void> {
  const file = join(tmpdir(), `herald-demo-${process.pid}.mp4`);
  print(`making a 20 s test video with ffmpeg…`);
  await makeTestVideo(file, 20, { width: 1280, height: 720 });
  const auth = { authorization: `Bearer ${token}` };
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws/admin`, ['bearer', token]);
  ws.on('error', (err) => print(`websocket error: ${err.message}`));
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'transcode_progress') print(`  ${String(m.status).padEnd(10)} ${String(m.progress).padStart(3)}%  ${String(m.message)}`);
      if (m.type === 'transcode_complete') print(`✅ ${String(m.format_type)}: ${(Number(m.file_size) / 1024).toFixed(0)} KiB`);
      if (m.type === 'transcode_progress' && m.status === 'completed') resolve();
      if (m.type === 'transcode_failed') reject(new Error(String(m.error)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('close', (code, reason) => reject(new Error(`WebSocket closed ${code} ${String(reason)}`)));
  });
  try {
    const form = new FormData();
    form.append('title', 'Herald demo');
    form.append('file', new Blob([await readFile(file)], { type: 'video/mp4' }), 'demo.mp4');
    const upload = await fetch(`${baseUrl}/api/v1/videos`, { method: 'POST', headers: auth, body: form });
    const video = (await upload.json()) as { id: number; duration: number; message?: string };
    if (!upload.ok) throw new Error(`upload failed: ${video.message ?? upload.status}`);
    print(`uploaded video ${video.id} (${video.duration.toFixed(1)} s); transcoding to 720p and 480p — watch it at ${baseUrl}/videos`);
    const start = await fetch(`${baseUrl}/api/v1/videos/${video.id}/transcode`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ formats: ['h264_720p', 'h264_480p'] }),
    });
    if (!start.ok) throw new Error(`transcode failed to start: ${((await start.json()) as { message: string }).message}`);
    await done;
    print('done.');
  } finally {
    ws.close();
    await rm(file, { force: true });
  }
}
