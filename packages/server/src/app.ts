import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CloseCode, type ConnectionStats } from '@herald/protocol';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuthService, TokenService, loadOrCreateSecret } from './auth/index.js';
import { MemoryBroker, type Broker } from './broker/index.js';
import type { Config } from './config.js';
import { authRoutes } from './http/routes-auth.js';
import { registerConsole } from './http/console.js';
import { registerErrorHandling } from './http/errors.js';
import { corsOptions, originCheck } from './http/origin.js';
import { guards } from './http/guards.js';
import { notificationRoutes } from './http/routes-notifications.js';
import { opsRoutes } from './http/routes-ops.js';
import { serverLogging } from './logging.js';
import { Metrics } from './metrics.js';
import { CompatBridge, NotificationService } from './notifications/index.js';
import { Store } from './store/index.js';
import { ConnectionManager, WebSocketGateway } from './ws/index.js';
import type { TranscodeQueue, TranscodeReporter } from './transcode/index.js';
import { NotifyingReporter, VideoService } from './transcode/service.js';
import { videoRoutes } from './http/routes-videos.js';

const CONTROL_CHANNEL = 'herald:control';

/** A running Herald node's parts, for the CLI, tests and embedding. */
export interface Herald {
  app: FastifyInstance;
  config: Config;
  nodeId: string;
  store: Store;
  broker: Broker;
  auth: AuthService;
  tokens: TokenService;
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

function sumStats(all: ConnectionStats[]): ConnectionStats {
  const total: ConnectionStats = { total_users: 0, total_user_connections: 0, total_admin_connections: 0, total_connections: 0 };
  for (const s of all) {
    total.total_users += s.total_users;
    total.total_user_connections += s.total_user_connections;
    total.total_admin_connections += s.total_admin_connections;
    total.total_connections += s.total_connections;
  }
  return total;
}

export { redactUrl } from './logging.js';

/** The store location from configuration: DATABASE_URL, or SQLite under DATA_DIR. */
export function storeLocation(config: Config): string {
  return config.databaseUrl ?? join(config.dataDir, 'herald.db');
}

/**
 * The transcode queue from configuration: BullMQ when REDIS_URL is set (jobs survive in
 * Redis), otherwise in-process, where jobs interrupted by a restart are queued again.
 */
export async function createQueue(config: Config, store: Store, reporter: TranscodeReporter, log: Logger): Promise<TranscodeQueue> {
  const { createTranscodeQueue, checkFfmpeg } = await import('./transcode/index.js');
  const queue = createTranscodeQueue({
    reporter,
    redisUrl: config.redisUrl,
    prefix: `${config.redisPrefix}herald`,
    outputDir: config.mediaDir,
    concurrency: config.transcodeConcurrency,
    onError: (err, context) => log.warn({ err, context }, 'transcode reporter failed'),
  });
  if (config.redisUrl) return queue;
  await checkFfmpeg().catch((err: Error) => log.warn(`transcoding unavailable until ffmpeg is installed: ${err.message}`));
  for (const job of await store.unfinishedJobs()) {
    const video = await store.findVideo(job.video_id);
    if (!video) continue;
    log.info({ job_id: job.job_id, video_id: job.video_id }, 're-queueing a transcode interrupted by a restart');
    await queue.enqueue({ job_id: job.job_id, video_id: video.id, title: video.title, input: video.path, formats: job.formats }).catch((err) => log.warn({ err }, 'could not re-queue'));
  }
  return queue;
}

export async function createBroker(config: Config): Promise<Broker> {
  if (!config.redisUrl) return new MemoryBroker();
  const { RedisBroker } = await import('./broker/redis.js');
  return RedisBroker.connect(config.redisUrl, config.redisPrefix);
}

/**
 * Builds a Herald node without listening: store, broker, auth, connection manager,
 * notification service, HTTP routes and the WebSocket gateway, all closed by `close()`.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<Herald> {
  const nodeId = config.nodeId ?? `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const app = Fastify({
    ...serverLogging(config.logLevel, nodeId, options.logStream),
    trustProxy: config.trustProxy,
    bodyLimit: 64 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const log = app.log as unknown as Logger;

  const store = options.store ?? (await Store.open(storeLocation(config)));
  const broker = options.broker ?? (await createBroker(config));
  const tokens = new TokenService(loadOrCreateSecret(config.jwtSecret, config.dataDir), config.accessTokenTtlSeconds, config.refreshTokenTtlSeconds);
  const auth = new AuthService(store, tokens);
  const manager = new ConnectionManager(broker, log);
  const notifications = new NotificationService(store, broker, log);
  const metrics = new Metrics(() => {
    const stats = manager.getConnectionCount();
    return { users: stats.total_user_connections, admins: stats.total_admin_connections };
  });
  const NODE_TTL_MS = 6_000;
  const reportNode = () => broker.reportNode(nodeId, manager.getConnectionCount(), NODE_TTL_MS);
  let peers: { at: number; nodes: Promise<Record<string, ConnectionStats>> } | undefined;
  /** Other nodes' figures are at most a second old; this node's are always live. */
  const statsByNode = async (): Promise<Record<string, ConnectionStats>> => {
    if (!peers || Date.now() - peers.at > 1000) peers = { at: Date.now(), nodes: broker.nodes().catch(() => ({})) };
    return { ...(await peers.nodes), [nodeId]: manager.getConnectionCount() };
  };
  const stats = async (): Promise<ConnectionStats> => sumStats(Object.values(await statsByNode()));
  const gateway = new WebSocketGateway({ config, auth, store, manager, notifications, metrics, log, nodeId, stats });
  let shuttingDown = false;

  const onControl = (payload: string) => void revalidateUser(payload);
  async function revalidateUser(payload: string): Promise<void> {
    let userId: number;
    try {
      userId = Number((JSON.parse(payload) as { user_id?: unknown }).user_id);
    } catch {
      return;
    }
    auth.forget(userId);
    const connections = manager.connectionsOf(userId);
    if (connections.length === 0) return;
    const user = await store.findUserById(userId);
    for (const conn of connections) {
      if (!user) conn.close(CloseCode.UNAUTHORIZED, 'user deleted');
      else if (conn.isAdmin && !user.is_admin) conn.close(CloseCode.FORBIDDEN, 'admin rights revoked');
    }
  }

  const compat = new CompatBridge(broker, notifications, log);
  await notifications.start();
  await compat.start();
  await manager.subscribeShared();
  await broker.subscribe(CONTROL_CHANNEL, onControl);
  manager.startHeartbeat(config.heartbeatIntervalMs);
  const reporting = setInterval(() => void reportNode().catch(() => undefined), NODE_TTL_MS / 3);
  reporting.unref();
  await reportNode().catch(() => undefined);
  const prune = setInterval(() => {
    store.prune(config.retentionDays * 86_400_000, config.retentionMaxPerStream).catch((err) => log.warn({ err }, 'retention prune failed'));
  }, 10 * 60_000);
  prune.unref();

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
    onUserChanged: (userId) => broker.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'user_changed', user_id: userId })),
  });
  await app.register(notificationRoutes, { notifications, store, guards: routeGuards });
  const queue = options.queue ?? (await createQueue(config, store, new NotifyingReporter(store, notifications), log));
  const videos = new VideoService(store, queue, notifications, { uploadDir: join(config.dataDir, 'uploads') }, log);
  await app.register(videoRoutes, { videos, guards: routeGuards, maxUploadBytes: config.maxUploadBytes });
  await app.register(opsRoutes, {
    metrics,
    nodeId,
    stats,
    statsByNode,
    isShuttingDown: () => shuttingDown,
    checks: [
      { name: 'store', check: async () => (await store.ping(), { ok: true, detail: store.dialect }) },
      { name: 'broker', check: () => broker.health() },
    ],
  });

  const consoleDir = config.staticDir ?? fileURLToPath(new URL('../../../apps/admin/dist', import.meta.url));
  if (await registerConsole(app, consoleDir)) log.debug({ dir: consoleDir }, 'serving the admin console');

  app.server.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head));

  app.addHook('preClose', async () => {
    shuttingDown = true;
    gateway.stop();
    manager.stopHeartbeat();
    // Spread reconnects over a few seconds so the clients of a node do not stampede the others.
    manager.closeAll(CloseCode.GOING_AWAY, () => `server shutting down; reconnect_after_ms=${500 + Math.floor(Math.random() * 4500)}`);
    const deadline = Date.now() + Math.min(config.shutdownGraceMs, 5000);
    while (manager.getConnectionCount().total_connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const conn of manager.all()) conn.terminate();
  });
  app.addHook('onClose', async () => {
    clearInterval(prune);
    clearInterval(reporting);
    if (!options.queue) await queue.close().catch(() => undefined);
    await broker.forgetNode(nodeId).catch(() => undefined);
    gateway.close();
    await broker.unsubscribe(CONTROL_CHANNEL, onControl).catch(() => undefined);
    await notifications.stop().catch(() => undefined);
    await compat.stop().catch(() => undefined);
    if (!options.broker) await broker.close();
    if (!options.store) await store.close();
  });

  return {
    app,
    config,
    nodeId,
    store,
    broker,
    auth,
    tokens,
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
