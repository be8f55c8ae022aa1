// The packages as a front-end team gets them: `npm pack` tarballs installed into a fresh
// Vite + React app outside this workspace (everything else from the registry), built, and
// run in Chromium against a real Herald.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '@herald/testing/herald';
import { REPO, execFileP, jsBytes, launchBrowser, publish, skipReason } from './browser.js';

const skip = skipReason();
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let work: string;
let app: string;
let herald: TestHerald | undefined;
let browser: Browser | undefined;

const MAIN = `import { useState } from 'react'
import { createRoot } from 'react-dom/client'
import { useWebSocket } from '@herald/react'

function Live() {
  const [messages, setMessages] = useState<string[]>([])
  const { isConnected, unreadCount } = useWebSocket(true, {
    onSystemMessage: (m) => setMessages((all) => [...all, m.message]),
  })
  return (
    <div>
      <p id="state">{isConnected ? '已连接' : '已断开'}</p>
      <p id="unread">{unreadCount}</p>
      <ul>{messages.map((m) => <li key={m}>{m}</li>)}</ul>
    </div>
  )
}

createRoot(document.getElementById('root')!).render(<Live />)
`;

beforeAll(async () => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'herald-pack-'));
  // The tarballs hold dist/: build it (incremental, quick when `npm test` already did).
  await execFileP(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-b', 'packages/react'], { cwd: REPO });
  await execFileP(NPM, ['pack', '--silent', '--pack-destination', work, '-w', 'packages/protocol', '-w', 'packages/client', '-w', 'packages/react'], { cwd: REPO });
  const tarball = (name: string) => `file:../${readdirSync(work).find((f) => f.startsWith(`herald-${name}-`))!}`;
  app = join(work, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  const pinned = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({
      name: 'fresh-app',
      private: true,
      type: 'module',
      dependencies: {
        '@herald/protocol': tarball('protocol'),
        '@herald/client': tarball('client'),
        '@herald/react': tarball('react'),
        react: pinned.devDependencies.react,
        'react-dom': pinned.devDependencies['react-dom'],
      },
      devDependencies: {
        vite: '8.3.8',
        '@vitejs/plugin-react': '6.3.0',
        typescript: pinned.devDependencies.typescript,
        '@types/react': pinned.devDependencies['@types/react'],
        '@types/react-dom': pinned.devDependencies['@types/react-dom'],
      },
    }),
  );
  writeFileSync(join(app, 'index.html'), '<!doctype html><html><body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body></html>');
  writeFileSync(join(app, 'src/main.tsx'), MAIN);
  writeFileSync(join(app, 'vite.config.js'), "import { defineConfig } from 'vite'\nimport react from '@vitejs/plugin-react'\nexport default defineConfig({ plugins: [react()] })\n");
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', jsx: 'react-jsx', strict: true, noEmit: true, skipLibCheck: false, lib: ['ES2023', 'DOM'] }, include: ['src'] }),
  );
  // A clean npm environment: `npm test` exports npm_* variables (prefix, workspace) that would point npm back at this repo.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_') && name !== 'NODE_ENV'));
  await execFileP(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, env, maxBuffer: 16 * 1024 * 1024 });
  await execFileP(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app, env });
  await execFileP(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, env: { ...env, NODE_ENV: 'production' } });
  herald = await startHerald({ STATIC_DIR: join(app, 'dist'), BACKEND_CORS_ORIGINS: '*' });
  browser = await launchBrowser();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await herald?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(skip)('the packed packages in a fresh Vite + React app', () => {
  it('install without antd, type-check, and their useWebSocket-only bundle has no antd and no Node built-ins', () => {
    expect(existsSync(join(app, 'node_modules/antd'))).toBe(false); // an optional peer, not pulled in
    expect(existsSync(join(app, 'node_modules/@herald/react/dist/antd/index.js'))).toBe(true);
    const dist = join(app, 'dist');
    const code = readdirSync(join(dist, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(dist, 'assets', f), 'utf8'))
      .join('\n');
    expect(code).not.toMatch(/antd|ant-design|ant-badge/);
    expect(code).not.toMatch(/from\s*["']node:|require\(["'](?:node:)?(?:fs|path|crypto|events|stream|url)["']\)/);
    console.log(`fresh app importing only useWebSocket: ${jsBytes(dist)} bytes of JavaScript`);
  });

  it('connects in Chromium with the token in localStorage and receives a notification', async () => {
    const admin = await herald!.user('admin', { admin: true });
    const context = await browser!.newContext();
    context.setDefaultTimeout(10_000);
    try {
      await context.addInitScript((t) => localStorage.setItem('token', t), admin.token);
      const page = await context.newPage();
      await page.goto(herald!.url);
      await page.locator('#state').getByText('已连接').waitFor();
      await publish(herald!.url, admin.token, { message: '来自打包的问候', target: 'admin' });
      await page.getByText('来自打包的问候').waitFor();
      await page.locator('#unread').getByText('1').waitFor();
    } finally {
      await context.close();
    }
  });
});
