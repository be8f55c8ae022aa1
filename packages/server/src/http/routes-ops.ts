import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ConnectionStats } from '@herald/protocol';
import type { Metrics } from '../metrics.js';
import { errorResponses, StatsBody } from './schemas.js';

export interface ReadinessCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail: string }>;
}

export interface OpsRouteDeps {
  metrics: Metrics;
  checks: ReadinessCheck[];
  nodeId: string;
  stats(): Promise<ConnectionStats>;
  statsByNode(): Promise<Record<string, ConnectionStats>>;
  isShuttingDown(): boolean;
}

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRouteDeps> = async (app, deps) => {
  app.get(
    '/api/v1/ws/stats',
    {
      schema: {
        tags: ['websocket'],
        summary: 'Connection statistics (public), summed over every live node',
        querystring: Type.Object({ by_node: Type.Optional(Type.Boolean()) }),
        response: {
          200: StatsBody,
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const total = await deps.stats();
      if (!request.query.by_node) return total;
      return { ...total, nodes: await deps.statsByNode() };
    },
  );

  app.get('/healthz', { schema: { tags: ['ops'], summary: 'Liveness: the process serves HTTP' } }, async () => ({ status: 'ok', node_id: deps.nodeId }));

  app.get(
    '/readyz',
    { schema: { tags: ['ops'], summary: 'Readiness: store and broker reachable (503 when degraded)' } },
    async (_request, reply) => {
      const results: Record<string, { ok: boolean; detail: string }> = {};
      await Promise.all(
        deps.checks.map(async ({ name, check }) => {
          try {
            results[name] = await check();
          } catch (error) {
            results[name] = { ok: false, detail: error instanceof Error ? error.message : String(error) };
          }
        }),
      );
      const ok = !deps.isShuttingDown() && Object.values(results).every((r) => r.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : deps.isShuttingDown() ? 'shutting_down' : 'degraded', node_id: deps.nodeId, checks: results });
    },
  );

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics of this node' } }, async (_request, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
};
