import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';

/** Probes and scrapes: requested every few seconds by machines, logged at debug only. */
const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/** Redacts query strings (tokens!) from logged URLs. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const at = url.indexOf('?');
  return at === -1 ? url : `${url.slice(0, at)}?[redacted]`;
}

function isProbe(req: { url?: string }): boolean {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  return PROBES.has(at === -1 ? url : url.slice(0, at));
}

/**
 * pino options for a Herald process: human-readable (pino-pretty) when stdout is a
 * terminal and no stream was given, one JSON object per line otherwise.
 */
export function loggerOptions(level: string, base: Record<string, string>, stream?: { write(line: string): void }): LoggerOptions & { stream?: { write(line: string): void } } {
  const options: LoggerOptions & { stream?: { write(line: string): void } } = { level, base };
  if (stream) options.stream = stream;
  else if (process.stdout.isTTY) {
    options.transport = { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } };
  }
  return options;
}

/** Fastify's request log lines, at debug for probes and scrapes, as usual for everything else. */
class ProbeAwareLogController extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    if (isProbe(request.raw)) request.log.debug({ req: request }, 'incoming request');
    else super.incomingRequest(request, reply);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (!error && isProbe(request.raw)) reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else super.requestCompleted(error, request, reply);
  }
}

/** Fastify's logging options: the logger, and request logging with probes at debug. */
export function serverLogging(level: string, nodeId: string, stream?: { write(line: string): void }) {
  return {
    logger: {
      ...loggerOptions(level, { node_id: nodeId }, stream),
      serializers: {
        req: (req: FastifyRequest) => ({ method: req.method, url: redactUrl(req.url), remoteAddress: req.ip }),
      },
    },
    logController: new ProbeAwareLogController(),
  };
}
