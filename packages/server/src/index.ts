export { buildApp, redactUrl, storeLocation, createBroker, type Herald, type BuildOptions } from './app.js';
export { createCore, type Core, type CoreOptions } from './core.js';
export { loadConfig, ConfigError, parseDuration, type Config } from './config.js';
export { ConnectionManager, Connection, WebSocketGateway } from './ws/index.js';
export { NotificationService, type Target } from './notifications/index.js';
export { Store } from './store/index.js';
export type { Broker } from './broker/index.js';
export { MemoryBroker } from './broker/index.js';
export { AuthService, TokenService } from './auth/index.js';
