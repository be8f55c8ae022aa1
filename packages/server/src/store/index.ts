export { Store } from './store.js';
export type { User, UserWithHash, RefreshUse, UserStore } from './users.js';
export type { StoredNotification, Heads, StreamStore, NewNotification, OnceOnly, BatchResult } from './streams.js';
export type { InboxItem, InboxQuery, UnreadState, InboxStore } from './inbox.js';
export type { RetentionStore } from './retention.js';
export type { Dialect } from './schema.js';
