#!/usr/bin/env node
// The `herald` command as npm links it. It loads the compiled CLI; on a fresh clone, where
// nothing has been built yet, it builds the server package (tsc -b) once, then loads it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(pkg, 'dist', 'cli.js');

if (!existsSync(cli)) {
  process.stderr.write('herald: first run, building @herald/server (tsc -b packages/server)…\n');
  const tsc = createRequire(join(pkg, 'package.json')).resolve('typescript/bin/tsc');
  const built = spawnSync(process.execPath, [tsc, '-b', pkg], { stdio: ['ignore', 2, 2] });
  if (built.status !== 0 || !existsSync(cli)) {
    process.stderr.write('herald: the build failed; run `npm run build` at the repository root to see why\n');
    process.exit(1);
  }
}
await import(pathToFileURL(cli).href);
