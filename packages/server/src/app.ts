import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { inProcessPublisher, startTranscoder, videoRoutes, type TranscodeQueue, type VideoService } from '@herald/transcode';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { UserRevalidation } from './auth/revalidation.js';
import { WorkBudgets } from './budget/index.js';
import type { AuthService, Identities, TokenService } from './auth/index.js';
import type { Broker } from './broker/index.js';
import { NodePresence } from './cluster/presence.js';
import type { Config } from './config.js';
import { createCore, storeLocation } from './core.js';
import { ConnectionCap } from './http/connection-cap.js';
import { registerConsole } from './http/console.js';
import { registerErrorHandling } from './http/errors.js';
import { HeraldError } from './errors.js';
import { ErrorCode } from '@herald/protocol';
import { corsOptions, originCheck } from './http/origin.js';
import { guards } from './http/guards.js';
import { authRoutes } from './http/routes-auth.js';
import { eventRoutes, publishEvents } from './http/routes-events.js';
import { notificationRoutes } from './http/routes-notifications.js';
import { opsRoutes } from './http/routes-ops.js';
import { serverLogging } from './logging.js';
import { Metrics } from './metrics.js';
import { CompatBridge, type NotificationService } from './notifications/index.js';
import { Shutdown } from './shutdown.js';
import { SseSessions, sseRoutes } from './sse/index.js';
import type { Store } from './store/index.js';
import { schedulePruning } from './store/retention.js';
import { ConnectionManager, WebSocketGateway } from './ws/index.js';

export { createBroker, storeLocation } from './core.js';

/** A running Herald node's parts, for the CLI, tests and embedding. */
export interface Herald {
  app: FastifyInstance;
  config: Config;
  nodeId: string;
  store: Store;
  broker: Broker;
  auth: AuthService;
  tokens: TokenService;
  /** Public user ids ↔ internal users: `identities.resolvePublicIds(ids, { provision })`. */
  identities: Identities;
  manager: ConnectionManager;
  notifications: NotificationService;
  videos: VideoService;
  metrics: Metrics;
  log: Logger;
  /** Listens on config.host:config.port (0 = ephemeral); returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  /** Use this store instead of opening one from the configuration (tests share one). */
  store?: Store;
  broker?: Broker;
  queue?: TranscodeQueue;
  /** Where logs go (default stdout); tests capture them. */
  logStream?: { write(line: string): void };
}

export { redactUrl } from './logging.js';

function createHttp(config: Config, nodeId: string, logStream: BuildOptions['logStream']) {
  const { headersTimeoutMs, requestTimeoutMs, idleTimeoutMs, keepAliveTimeoutMs } = config.http;
  const app = Fastify({
    ...serverLogging(config.logLevel, nodeId, logStream),
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
    requestTimeout: requestTimeoutMs,
    connectionTimeout: idleTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    // Node enforces the header and request timeouts on a timer: check often enough to honour short ones.
    http: { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, headersTimeoutMs) },
  }).withTypeProvider<TypeBoxTypeProvider>();
  new ConnectionCap(config.http.maxConnectionsPerIp).attach(app.server);
  return app;
}

/**
 * The composition root: builds a Herald node without listening. Each part owns its start
 * and stop; this function only creates them in order, wires them and closes them in reverse.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<Herald> {
  const nodeId = config.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const app = createHttp(config, nodeId, options.logStream);
  const log = app.log as unknown as Logger;

  const metrics = new Metrics();
  const core = await createCore(config, { log, store: options.store, broker: options.broker, metrics });
  const { store, broker, tokens, auth, notifications } = core;
  const manager = new ConnectionManager(broker, log);
  metrics.observeConnections(() => {
    const stats = manager.getConnectionCount();
    return { users: stats.total_user_connections, admins: stats.total_admin_connections, sse: manager.sseCount() };
  });
  const presence = new NodePresence(nodeId, broker, manager);
  manager.onChanged(() => presence.changed());
  const stats = () => presence.stats();
  const budgets = new WorkBudgets({ resumeRowsPerMinute: config.resumeRowsPerMinute, readAllPerMinute: config.readAllPerMinute });
  const gateway = new WebSocketGateway({ config, auth, store, manager, notifications, metrics, log, nodeId, budgets, stats, connectionsOf: (userId) => presence.connectionsOf(userId) });
  const revalidation = new UserRevalidation(broker, auth, store.users, manager);
  const compat = new CompatBridge(broker, notifications, log, (reason) => metrics.ingressRejected.inc({ reason }));
  const shutdown = new Shutdown();

  await notifications.start();
  await compat.start();
  await manager.subscribeShared();
  await revalidation.start();
  manager.startHeartbeat(config.heartbeatIntervalMs);
  await presence.start();
  const stopPruning = schedulePruning(store.retention, config.retentionDays * 86_400_000, config.retentionMaxPerStream, (err) =>
    log.warn({ err }, 'retention prune failed'),
  );

  await app.register(cors, corsOptions(originCheck(config.corsOrigins, config.trustProxy, log)));
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Herald', description: 'Real-time notifications for VideoSite', version: '0.1.0' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerErrorHandling(app);

  const routeGuards = guards(auth, metrics, config.serviceKey);
  await app.register(authRoutes, {
    auth,
    guards: routeGuards,
    loginAttemptsPerMinute: config.loginAttemptsPerMinute,
    onUserChanged: (userId) => revalidation.userChanged(userId),
    onUserRevoked: (userId, reason) => revalidation.userRevoked(userId, reason),
  });
  await app.register(notificationRoutes, { notifications, store, guards: routeGuards, budgets });
  await app.register(eventRoutes, { notifications, store, guards: routeGuards });
  const sseSessions = new SseSessions(broker, gateway);
  await sseSessions.start();
  await app.register(sseRoutes, { gateway, metrics, sessions: sseSessions });
  // The transcoder is a producer like any other: embedded, it publishes through the producers' path (checks included).
  const transcoder = await startTranscoder({
    database: storeLocation(config),
    publisher: inProcessPublisher(async (event) => {
      // The transcoder knows its uploaders by internal id; producers address users by public id.
      let target: string | number = event.target;
      if (typeof target === 'number') {
        const uploader = await store.users.findById(target);
        if (!uploader) return log.warn({ video_id: event.video_id, target }, 'transcode event for an unknown user dropped');
        target = core.identities.publicId(uploader);
      }
      return publishEvents(notifications, [{ ...event, target }], 'transcode').catch((error: unknown) => {
        // The uploader was deleted since: the administrators' copy went first, this one has no reader.
        if (error instanceof HeraldError && error.code === ErrorCode.NOT_FOUND) return log.warn({ video_id: event.video_id, target: event.target }, 'transcode event for an unknown user dropped');
        throw error;
      });
    }),
    uploadDir: join(config.dataDir, 'uploads'),
    mediaDir: config.mediaDir,
    redisUrl: config.redisUrl,
    prefix: `${config.redisPrefix}herald`,
    concurrency: config.transcodeConcurrency,
    liveProgress: (jobId) => notifications.progress.latest(jobId),
    queue: options.queue,
    log,
  });
  const videos = transcoder.videos;
  await app.register(videoRoutes, { videos, authorize: routeGuards.admin, userIdOf: (request) => request.principal!.user.id, maxUploadBytes: config.maxUploadBytes });
  await app.register(opsRoutes, {
    metrics,
    nodeId,
    stats,
    statsByNode: () => presence.statsByNode(),
    isShuttingDown: () => shutdown.active,
    checks: [
      { name: 'store', check: async () => (await store.ping(), { ok: true, detail: store.dialect }) },
      { name: 'broker', check: () => broker.health() },
    ],
  });

  const consoleDir = config.staticDir ?? fileURLToPath(new URL('../../../apps/admin/dist', import.meta.url));
  if (await registerConsole(app, consoleDir)) log.debug({ dir: consoleDir }, 'serving the admin console');

  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));

  app.addHook('preClose', () => shutdown.drain(gateway, manager, config.shutdownGraceMs));
  app.addHook('onClose', async () => {
    stopPruning();
    await transcoder.close().catch(() => undefined);
    await presence.stop();
    gateway.close();
    await revalidation.stop();
    await notifications.stop().catch(() => undefined);
    await compat.stop().catch(() => undefined);
    await sseSessions.stop().catch(() => undefined);
    await core.close();
  });

  return {
    app,
    config,
    nodeId,
    store,
    broker,
    auth,
    tokens,
    identities: core.identities,
    manager,
    notifications,
    videos,
    metrics,
    log,
    async listen() {
      return app.listen({ host: config.host, port: config.port });
    },
    async close() {
      await app.close();
    },
  };
}
