import { join } from 'node:path';
import type { Logger } from 'pino';
import { AuthService, Identities, PlatformVerifier, TokenService, loadOrCreateSecret, ownSecretFrom } from './auth/index.js';
import { MemoryBroker, type Broker } from './broker/index.js';
import type { Config } from './config.js';
import { NotificationService, type PublishMetrics } from './notifications/index.js';
import { Store } from './store/index.js';

/**
 * The parts every Herald process needs, built one way from the configuration:
 * `herald serve` (through `buildApp`), `herald worker` and the CLI's offline commands.
 */
export interface Core {
  config: Config;
  log: Logger;
  store: Store;
  broker: Broker;
  tokens: TokenService;
  auth: AuthService;
  /** Public user ids to internal users and back; provisions platform users (`resolvePublicIds`). */
  identities: Identities;
  notifications: NotificationService;
  /** Closes the store and broker this core opened (not the ones it was given). */
  close(): Promise<void>;
}

export interface CoreOptions {
  log: Logger;
  /** Use this store instead of opening one from the configuration (tests share one). */
  store?: Store;
  /** Use this broker instead of connecting one; offline CLI commands pass a MemoryBroker. */
  broker?: Broker;
  /** Counts published notifications (a node's `Metrics`). */
  metrics?: PublishMetrics;
}

/** The store location from configuration: DATABASE_URL, or SQLite under DATA_DIR. */
export function storeLocation(config: Config): string {
  return config.databaseUrl ?? join(config.dataDir, 'herald.db');
}

/** The broker from configuration: Redis Pub/Sub when REDIS_URL is set, otherwise in-process. */
export async function createBroker(config: Config): Promise<Broker> {
  if (!config.redisUrl) return new MemoryBroker();
  const { RedisBroker } = await import('./broker/redis.js');
  return RedisBroker.connect(config.redisUrl, config.redisPrefix);
}

/** Opens the store, connects the broker and builds tokens, auth and the notification service. */
export async function createCore(config: Config, options: CoreOptions): Promise<Core> {
  const store = options.store ?? (await Store.open(storeLocation(config)));
  let broker: Broker;
  try {
    broker = options.broker ?? (await createBroker(config));
  } catch (error) {
    if (!options.store) await store.close();
    throw error;
  }
  const identities = new Identities(store.users, config.platform !== undefined);
  const notifications = new NotificationService(store, broker, options.log, identities, options.metrics);
  // Built on first use: `herald worker` never signs or checks a token, so it neither needs
  // JWT_SECRET nor creates the generated secret file under DATA_DIR.
  let tokens: TokenService | undefined;
  let auth: AuthService | undefined;
  const ownSecret = () => {
    const secret = loadOrCreateSecret(config.jwtSecret, config.dataDir);
    return config.platform?.secret ? ownSecretFrom(secret) : secret;
  };
  const tokenService = () => (tokens ??= new TokenService(ownSecret(), config.accessTokenTtlSeconds, config.refreshTokenTtlSeconds));
  return {
    config,
    log: options.log,
    store,
    broker,
    get tokens() {
      return tokenService();
    },
    get auth() {
      return (auth ??= new AuthService(store, tokenService(), identities, config.platform && new PlatformVerifier(config.platform, options.log)));
    },
    identities,
    notifications,
    async close() {
      if (!options.broker) await broker.close();
      if (!options.store) await store.close();
    },
  };
}
