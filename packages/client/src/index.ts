export { backoff } from './backoff.js';
export { HeraldClient } from './client.js';
export type { ErrorLogger, HeraldClientOptions } from './options.js';
export type {
  ClientEvents,
  ClientSnapshot,
  ConnectionState,
  DisconnectEvent,
  InboxPage,
  ResyncEvent,
  StateChange,
  TokenProvider,
  TokenRequest,
} from './types.js';
export { DEFAULT_TOKEN_KEY, localStorageTokenProvider, readClaims, tokenSaysAdmin } from './token.js';
export {
  ReadyState,
  eventTargetOnlineSource,
  type FetchLike,
  type OnlineSource,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
} from './environment.js';
export { ClientErrorCode, HeraldClientError } from './errors.js';
export { NotificationFeed, type FeedNotification, type FeedSnapshot, type TranscodeProgressEntry } from './feed.js';
export { PositionTracker, UnreadTracker } from './tracking.js';
export { ConnectionRegistry, defaultRegistry, type AcquireOptions, type ConnectionLease, type ConnectionRegistryOptions } from './registry.js';
export { TabShare, crossTabEnvironment, type TabShareEnvironment } from './tab-share.js';
