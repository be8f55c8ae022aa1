import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '@herald/testing/herald';

let herald: TestHerald;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'herald-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("hi")');
  herald = await startHerald({ STATIC_DIR: dir });
});
afterAll(async () => {
  await herald.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('console security headers', () => {
  it.each(['/', '/videos', '/index.html'])('the console page %s cannot be framed and runs only its own scripts', async (path) => {
    const res = await fetch(`${herald.url}${path}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<title>console</title>');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('lets the page open a WebSocket to the host it was served from', async () => {
    const res = await fetch(`${herald.url}/`);
    const host = new URL(herald.url).host;
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ws://${host} wss://${host}`);
  });

  it('serves assets with nosniff', async () => {
    const res = await fetch(`${herald.url}/assets/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  it('does not put a forged Host header into the policy', async () => {
    const { request } = await import('node:http');
    const csp = await new Promise<string>((resolve, reject) => {
      const req = request(`${herald.url}/`, { headers: { host: "evil; script-src 'unsafe-inline'" } }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy'] ?? ''));
      });
      req.on('error', reject);
      req.end();
    });
    expect(csp).not.toContain('evil');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });
});
