import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { CONSOLE_HEADERS, consoleCsp, setConsoleSecurityHeaders } from './security-headers.js';

const API_PREFIXES = ['/api/', '/docs', '/healthz', '/readyz', '/metrics'];

/**
 * Serves the admin console's static build at `/`: hashed assets with long-lived caching,
 * `index.html` never cached, and every other non-API GET answered with `index.html`
 * (client-side routes). Every console response carries the security headers of
 * `security-headers.ts` (CSP with `frame-ancestors 'none'`, nosniff, no referrer).
 */
export async function registerConsole(app: FastifyInstance, dir: string): Promise<boolean> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) return false;
  await app.register(fastifyStatic, {
    root: dir,
    wildcard: false,
    index: false,
    setHeaders(res, path) {
      for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
      if (path.endsWith('.html')) res.setHeader('content-security-policy', consoleCsp(undefined));
      if (path.includes(`${join(dir, 'assets')}`)) res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      else res.setHeader('cache-control', 'no-cache');
    },
  });
  app.get('/*', { schema: { hide: true } }, (request, reply) => {
    const path = request.url.split('?')[0];
    if (API_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      return reply.status(404).send({ error: 'ERR_NOT_FOUND', message: `no route GET ${path.slice(0, 200)}`, statusCode: 404 });
    }
    setConsoleSecurityHeaders(request, reply);
    const file = path.slice(1);
    if (file && !file.includes('..') && existsSync(join(dir, file))) return reply.sendFile(file);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
  return true;
}
