import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { makeTestVideo } from '@herald/transcode/make-test-video';

/** A progress message in English, from its structured fields (the `message` is Chinese by specification). */
function progressWords(m: Record<string, unknown>): string {
  const step = typeof m.format === 'string' ? `${m.format} (${String(m.step)}/${String(m.steps)})` : typeof m.steps === 'number' ? `probing the source (${m.steps} presets)` : '';
  const skipped = Array.isArray(m.skipped) && m.skipped.length > 0 ? `skipped: ${m.skipped.join(', ')}, source is ${String(m.source_width)}×${String(m.source_height)}` : '';
  return [step, skipped].filter(Boolean).join(' · ');
}

/**
 * Signs in to a running Herald (POST /api/v1/auth/login) and returns an access token; the
 * account must be an administrator, since the demo uploads a video.
 */
export async function login(baseUrl: string, username: string, password: string): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  } catch (error) {
    throw new Error(`cannot reach ${baseUrl}: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}; is herald serve running there?`);
  }
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; message?: string; user?: { is_admin: boolean } };
  if (!response.ok || !body.access_token) throw new Error(`sign-in as "${username}" on ${baseUrl} failed: ${body.message ?? `HTTP ${response.status}`}`);
  if (!body.user?.is_admin) throw new Error(`"${username}" is not an administrator on ${baseUrl}; the demo uploads a video, which needs one`);
  return body.access_token;
}

/**
 * `herald demo`: makes a short test video with ffmpeg's own sources, uploads it to a
 * running Herald and transcodes it, printing what the admin WebSocket pushes.
 */
export async function runDemo(baseUrl: string, token: string, print: (line: string) => void, seconds = 20): Promise<void> {
  const file = join(tmpdir(), `herald-demo-${process.pid}.mp4`);
  print(`making a ${seconds} s test video with ffmpeg…`);
  await makeTestVideo(file, seconds, { width: 1280, height: 720 });
  const auth = { authorization: `Bearer ${token}` };
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/api/v1/ws/admin`, ['bearer', token]);
  ws.on('error', (err) => print(`websocket error: ${err.message}`));
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as Record<string, unknown>;
      if (m.type === 'transcode_progress') print(`  ${String(m.status).padEnd(10)} ${String(m.progress).padStart(3)}%  ${progressWords(m)}`);
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
