import type { CustomEventMessage, ServerMessage, StreamName, StreamPosition, UnreadState } from '@herald/protocol';
import type { HeraldClientError } from './errors.js';

/** Connection states. `reconnecting` means waiting for (or running) a retry after a drop. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** What the token provider is told: `forceRefresh` after the server refused the last token. */
export interface TokenRequest {
  forceRefresh: boolean;
}

export type TokenProvider = (request: TokenRequest) => string | null | undefined | Promise<string | null | undefined>;

/** One page of the inbox, as `GET /api/v1/notifications` returns it. */
export interface InboxPage extends UnreadState {
  items: unknown[];
  /** Pass as `cursor` for the next page; `null` on the last page. */
  next_cursor: number | string | null;
}

export interface ResyncEvent {
  streams: StreamName[];
  reason: string;
  positions: StreamPosition;
  /** The refetched inbox, or `undefined` when the refetch failed (see `error`). */
  inbox: InboxPage | undefined;
  error?: HeraldClientError;
}

export interface DisconnectEvent {
  code: number;
  reason: string;
  /** Whether the client will try again (state `reconnecting`). */
  willReconnect: boolean;
}

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
}

/** Server message events by `type`, plus the client's own lifecycle events. */
export type ClientEvents = { [K in ServerMessage['type']]: Extract<ServerMessage, { type: K }> } & {
  /** Every server message that was not dropped as a duplicate. */
  message: ServerMessage;
  /** Every custom event (a type a producer made up), stored or ephemeral. */
  event: CustomEventMessage;
  state: StateChange;
  disconnect: DisconnectEvent;
  failure: HeraldClientError;
  resync: ResyncEvent;
  unread: number;
};

/** Immutable view for `useSyncExternalStore`; a new object after every change. */
export interface ClientSnapshot {
  state: ConnectionState;
  unreadCount: number;
  lastMessage: ServerMessage | null;
  /**
   * Why the client stopped for good (`ERR_NO_TOKEN`, `ERR_AUTH`, `ERR_FORBIDDEN`,
   * `ERR_RECONNECT_EXHAUSTED`), or `null`; cleared by the next `connect()`.
   */
  error: HeraldClientError | null;
}
