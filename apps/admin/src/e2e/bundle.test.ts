// @vitest-environment node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIST, ensureBuilt } from './harness.js';

interface Chunk {
  file: string;
  imports?: string[];
  dynamicImports?: string[];
  isEntry?: boolean;
}

/** The JavaScript files a browser fetches for these manifest entries: each with its static imports, transitively. */
function filesFor(manifest: Record<string, Chunk>, entries: string[]): Set<string> {
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk) throw new Error(`no chunk ${key} in the build manifest`);
    if (files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  entries.forEach(visit);
  return files;
}

const gzipKb = (files: Iterable<string>) => [...files].reduce((sum, file) => sum + gzipSync(readFileSync(join(DIST, file))).length, 0) / 1024;

describe('console bundle', () => {
  let manifest: Record<string, Chunk>;
  beforeAll(async () => {
    await ensureBuilt();
    manifest = JSON.parse(readFileSync(join(DIST, '.vite/manifest.json'), 'utf8')) as Record<string, Chunk>;
  }, 180_000);

  it('loads at most 250 kB of gzipped JavaScript for the sign-in page', () => {
    const signIn = filesFor(manifest, ['index.html', 'src/pages/LoginPage.tsx']);
    const kb = gzipKb(signIn);
    console.info(`sign-in page: ${signIn.size} chunks, ${kb.toFixed(1)} kB gzip`);
    expect(kb).toBeLessThanOrEqual(250);
  });

  it('splits by route: every page is a chunk of its own, loaded on demand', () => {
    const pages = ['Dashboard', 'Videos', 'Notifications', 'Broadcast', 'Users', 'Login'].map((name) => `src/pages/${name}Page.tsx`);
    const entry = manifest['index.html']!;
    for (const page of [...pages, 'src/AdminShell.tsx']) expect(entry.dynamicImports).toContain(page);
    // The videos page's table and upload code is not fetched for the dashboard.
    const dashboard = filesFor(manifest, ['index.html', 'src/AdminShell.tsx', 'src/pages/DashboardPage.tsx']);
    expect(dashboard.has(manifest['src/pages/VideosPage.tsx']!.file)).toBe(false);
    const all = new Set(Object.values(manifest).map((chunk) => chunk.file).filter((file) => file.endsWith('.js')));
    console.info(`whole console: ${all.size} chunks, ${gzipKb(all).toFixed(1)} kB gzip; dashboard: ${gzipKb(dashboard).toFixed(1)} kB gzip`);
  });
});
