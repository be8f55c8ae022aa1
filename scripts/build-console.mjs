#!/usr/bin/env node
// Builds the admin console when its build is missing or older than its sources (npm start).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = join(root, 'apps/admin/dist/index.html');
const sources = ['apps/admin/src', 'apps/admin/index.html', 'apps/admin/vite.config.ts', 'packages/react/src', 'packages/client/src', 'packages/protocol/src'];

function newest(path) {
  const full = join(root, path);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(full).map((name) => newest(join(path, name))));
}

if (!existsSync(built) || sources.some((s) => newest(s) > statSync(built).mtimeMs)) {
  console.log('building the admin console…');
  execFileSync('npm', ['run', 'build', '-w', 'apps/admin'], { cwd: root, stdio: 'inherit' });
}
