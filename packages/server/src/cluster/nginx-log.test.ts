// The shipped deploy/nginx.conf must not write access tokens to its logs: the specification
// (and the README) connect with `?token=`.
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Nginx, findNginx, freePort, requireService, until } from '@herald/testing';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

const nginxBin = findNginx();
const ready = requireService('nginx', nginxBin !== undefined, 'no nginx binary (Debian: nginx-light; or set NGINX)');

describe.runIf(ready)('deploy/nginx.conf access log', () => {
  let herald: TestHerald;
  let nginx: Nginx;
  let dir: string;
  let listen: string;

  beforeAll(async () => {
    herald = await startHerald({ TRUST_PROXY: 'true' });
    dir = mkdtempSync(join(tmpdir(), 'herald-nginx-log-'));
    chmodSync(dir, 0o755); // nginx workers (nobody) write their temp files here
    listen = `127.0.0.1:${await freePort()}`;
    nginx = await new Nginx({ bin: nginxBin!, dir, listen, upstreams: [new URL(herald.url).host], render: { accessLog: true } }).start();
  });
  afterAll(async () => {
    await nginx?.stop();
    await herald?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs ?token= connections without the token', async () => {
    const alice = await herald.user('alice');
    const socket = openSocket(`ws://${listen}/api/v1/ws?token=${alice.token}&since=broadcast@0`);
    await socket.waitFor((m) => m.type === 'connected');
    socket.close();
    await socket.closed;
    const res = await fetch(`http://${listen}/api/v1/notifications?token=${alice.token}`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(res.status).toBe(200);

    const log = () => readFileSync(join(dir, 'access.log'), 'utf8');
    await until(() => log().includes('/api/v1/notifications'), 5000, 'the access log line of the HTTP request');
    expect(log()).toContain('"GET /api/v1/ws?[redacted] HTTP/1.1" 101');
    expect(log()).toContain('"GET /api/v1/notifications?[redacted] HTTP/1.1" 200');
    expect(log()).not.toContain(alice.token);
    expect(log()).not.toContain(alice.token.split('.')[1]);
  });

  it('keeps the token out of both logs when the upstream is down, and names the upstream in the access log', async () => {
    const deadDir = mkdtempSync(join(tmpdir(), 'herald-nginx-dead-'));
    chmodSync(deadDir, 0o755);
    const deadListen = `127.0.0.1:${await freePort()}`;
    const deadUpstream = `127.0.0.1:${await freePort()}`;
    // Not waiting for /healthz through it: nothing listens upstream.
    const dead = await new Nginx({ bin: nginxBin!, dir: deadDir, listen: deadListen, upstreams: [deadUpstream], render: { accessLog: true }, waitReady: false }).start();
    try {
      const token = (await herald.user('bob')).token;
      await until(async () => (await fetch(`http://${deadListen}/healthz`).catch(() => undefined)) !== undefined, 5000, 'nginx listening');
      const res = await fetch(`http://${deadListen}/api/v1/ws?token=${token}`);
      expect(res.status).toBe(502);
      const access = () => readFileSync(join(deadDir, 'access.log'), 'utf8');
      await until(() => access().includes('/api/v1/ws?[redacted]'), 5000, 'the access log line of the refused request');
      expect(access()).toMatch(new RegExp(`"GET /api/v1/ws\\?\\[redacted\\] HTTP/1.1" 502 .* upstream=${deadUpstream.replace(/\./g, '\\.')}/502`));
      for (const file of ['access.log', 'error.log']) {
        let text = '';
        try {
          text = readFileSync(join(deadDir, file), 'utf8');
        } catch {
          // nginx writes no error log at all when nothing reaches its level
        }
        expect(text, file).not.toContain(token);
      }
    } finally {
      await dead.stop();
      rmSync(deadDir, { recursive: true, force: true });
    }
  });
});
