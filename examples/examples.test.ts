// The producer examples run as a platform's backend would run them, against a real Herald:
// Python (standard library) and Node, each event received by a real admin WebSocket.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandExists, requireService } from '@herald/testing';
import { openSocket, startHerald, type TestHerald, type TestSocket } from '@herald/testing/herald';

const run = promisify(execFile);
const HERE = fileURLToPath(new URL('.', import.meta.url));
const SERVICE_KEY = 'examples-service-key-0123456789';
const hasPython = requireService('python3', commandExists('python3'), 'python3 not on PATH (Debian: python3)');

let herald: TestHerald;
let admin: TestSocket;

beforeAll(async () => {
  herald = await startHerald({ HERALD_SERVICE_KEY: SERVICE_KEY });
  const boss = await herald.user('boss', { admin: true });
  admin = openSocket(`${herald.wsUrl}/api/v1/ws/admin?token=${boss.token}`);
  await admin.waitFor((m) => m.type === 'connected');
});
afterAll(async () => {
  admin?.close();
  await herald?.stop();
});

const env = () => ({ ...process.env, HERALD_URL: herald.url, HERALD_SERVICE_KEY: SERVICE_KEY, PYTHONDONTWRITEBYTECODE: '1' });

describe.runIf(hasPython)('examples/python', () => {
  const cwd = `${HERE}python`;

  it('the specification’s Celery-style task reports progress, completion and a system message to the admins', async () => {
    const { stdout } = await run('python3', ['transcode_task.py', '4101', '示例视频'], { cwd, env: env() });
    expect(stdout).toContain("'stored': True");
    const complete = await admin.waitFor((m) => m.type === 'transcode_complete' && m.video_id === 4101);
    expect(complete).toMatchObject({ title: '示例视频', format_type: 'h264', file_size: 1024000000, stream: 'admins' });
    const progress = admin.of('transcode_progress').filter((m) => m.video_id === 4101);
    expect(progress.map((m) => m.progress)).toEqual([0, 33, 66, 100]);
    expect(progress.at(-1)).toMatchObject({ status: 'processing', message: '已完成480p转码' });
    await admin.waitFor((m) => m.type === 'system_message' && m.message === '《示例视频》转码完成' && m.level === 'success');
  });

  it('a failing task reports transcode_failed with its error, then fails itself', async () => {
    const script = 'from transcode_task import transcode_video\ntranscode_video(4102, "坏视频", fail=True)';
    const failure = await run('python3', ['-c', script], { cwd, env: env() }).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('ffmpeg exited with code 1 while encoding 720p');
    const failed = await admin.waitFor((m) => m.type === 'transcode_failed' && m.video_id === 4102);
    expect(failed).toMatchObject({ title: '坏视频', error: 'ffmpeg exited with code 1 while encoding 720p' });
  });

  it('a refused event raises HeraldError with Herald’s status and code', async () => {
    const script = [
      'from herald_producer import HeraldError, notify_system_message',
      'try:',
      '    notify_system_message("x", level="loud")',
      'except HeraldError as e:',
      '    print(e.status, e.code)',
    ].join('\n');
    const { stdout } = await run('python3', ['-c', script], { cwd, env: env() });
    expect(stdout.trim()).toBe('400 ERR_VALIDATION');
  });

  it('refuses to start without the service key, naming the variable', async () => {
    const failure = await run('python3', ['-c', 'import herald_producer as h; h.publish({})'], { cwd, env: { ...env(), HERALD_SERVICE_KEY: '' } }).then(
      () => undefined,
      (error: { stderr: string }) => error,
    );
    expect(failure?.stderr).toContain('HERALD_SERVICE_KEY is not set');
  });
});

describe('examples/node', () => {
  it('runs the specification’s three examples and the admins receive them', async () => {
    const { stdout } = await run(process.execPath, [`${HERE}node/producer.mjs`], { env: env() });
    const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as { events: Array<{ type: string; stored: boolean }> });
    expect(answers.map((a) => [a.events[0].type, a.events[0].stored])).toEqual([
      ['transcode_progress', false],
      ['transcode_complete', true],
      ['system_message', true],
    ]);
    await admin.waitFor((m) => m.type === 'transcode_progress' && m.video_id === 123 && m.progress === 45);
    await admin.waitFor((m) => m.type === 'transcode_complete' && m.video_id === 123 && m.format_type === 'av1');
    await admin.waitFor((m) => m.type === 'system_message' && m.message === '系统将于10分钟后维护' && m.level === 'warning');
  });
});
