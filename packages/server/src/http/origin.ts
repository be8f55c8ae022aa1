import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** How often one refused origin is logged at most. */
const WARN_EVERY_MS = 60_000;
/** Distinct refused origins remembered for rate limiting before the memory is reset. */
const MAX_REMEMBERED = 1000;

function first(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value?.split(',')[0]?.trim() || undefined;
}

/**
 * The request's own `scheme://host`, as the browser that sent it sees it. Forwarded
 * headers count only when the server already trusts its proxies (`TRUST_PROXY`);
 * otherwise any client could claim any host.
 */
export function ownOrigin(req: IncomingMessage, trustProxy: boolean): string | undefined {
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const proto = (trustProxy && first(req.headers['x-forwarded-proto'])) || (encrypted ? 'https' : 'http');
  const host = (trustProxy && first(req.headers['x-forwarded-host'])) || first(req.headers.host);
  return host ? `${proto.toLowerCase()}://${host.toLowerCase()}` : undefined;
}

export interface OriginCheck {
  /** Whether a request with this `Origin` may proceed; a refusal is logged (rate-limited). */
  (req: IncomingMessage): boolean;
}

/**
 * The Origin rule shared by WebSocket upgrades and CORS: no Origin (not a browser),
 * the request's own origin (the console served by this server, on any port and host),
 * or an origin listed in BACKEND_CORS_ORIGINS (`*` allows all).
 */
export function originCheck(allowed: readonly string[], trustProxy: boolean, log: Logger): OriginCheck {
  const any = allowed.includes('*');
  const list = new Set(allowed.map((o) => o.toLowerCase()));
  const warned = new Map<string, number>();
  return (req) => {
    const raw = req.headers.origin;
    if (raw === undefined) return true;
    const origin = raw.replace(/\/$/, '').toLowerCase();
    if (any || list.has(origin) || origin === ownOrigin(req, trustProxy)) return true;
    const now = Date.now();
    if (now - (warned.get(origin) ?? -Infinity) >= WARN_EVERY_MS) {
      if (warned.size >= MAX_REMEMBERED) warned.clear();
      warned.set(origin, now);
      log.warn(
        { origin: raw.slice(0, 200), variable: 'BACKEND_CORS_ORIGINS' },
        `refused a request from origin ${raw.slice(0, 200)}: add it to BACKEND_CORS_ORIGINS (comma-separated) to allow it`,
      );
    }
    return false;
  };
}

/** @fastify/cors options that apply the same rule (the delegator sees the request). */
export function corsOptions(check: OriginCheck) {
  return {
    credentials: true,
    delegator: (req: FastifyRequest, done: (error: Error | null, options: { origin: boolean; credentials: boolean }) => void) =>
      done(null, { origin: check(req.raw), credentials: true }),
  };
}
