import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The console's Content-Security-Policy. antd renders its styles at run time (CSS-in-JS
 * `<style>` elements), hence `'unsafe-inline'` for styles only; scripts come from our own
 * origin alone. `connect-src` names the page's own host for ws/wss explicitly, since older
 * browsers do not let `'self'` match WebSocket schemes.
 */
export function consoleCsp(host: string | undefined): string {
  const sockets = host && /^[A-Za-z0-9.:[\]-]{1,300}$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers every console response carries: no framing, no MIME sniffing, no referrer leak. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

/** The console page itself: CONSOLE_HEADERS plus the CSP for the host it was asked for. */
export function setConsoleSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(CONSOLE_HEADERS);
  reply.header('content-security-policy', consoleCsp(request.headers.host));
}
