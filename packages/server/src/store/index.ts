export { Store } from './store.js';
export type { User, UserWithHash, StoredNotification, InboxItem, UnreadState, InboxQuery, RefreshUse } from './store.js';
export type { Dialect } from './schema.js';
