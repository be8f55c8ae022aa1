// Plain Node scripts (`npm run cluster`, the bench, the soak) run without a build step of their
// own: this compiles @herald/testing and what it depends on (`tsc -b packages/testing`:
// incremental, about a second when nothing changed) and then loads its compiled output.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Builds packages/testing (and the server, client and protocol) and imports `@herald/testing`. */
export async function loadTesting({ log = (line) => console.error(line) } = {}) {
  const result = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'packages/testing'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (result.status !== 0) {
    const output = `${result.stdout}${result.stderr}`.trim();
    if (!existsSync(join(ROOT, 'packages/testing/dist/index.js'))) throw new Error(`tsc -b packages/testing failed:\n${output}`);
    log(`tsc -b packages/testing reported errors (using the emitted dist anyway):\n${output}`);
  }
  return import('@herald/testing');
}
