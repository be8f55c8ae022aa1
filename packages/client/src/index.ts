export { backoff } from './backoff.js';
export {
  HeraldClient,
  type ClientEvents,
  type ClientSnapshot,
  type ConnectionState,
  type DisconnectEvent,
  type HeraldClientOptions,
  type InboxPage,
  type ResyncEvent,
  type StateChange,
  type TokenProvider,
  type TokenRequest,
} from './client.js';
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
