import type { StreamName, StreamPosition } from './streams.js';

/** Message type names, server → client. */
export const MessageType = {
  CONNECTED: 'connected',
  TRANSCODE_PROGRESS: 'transcode_progress',
  TRANSCODE_COMPLETE: 'transcode_complete',
  TRANSCODE_FAILED: 'transcode_failed',
  SYSTEM_MESSAGE: 'system_message',
  STATS: 'stats',
  ERROR: 'error',
  RESUMED: 'resumed',
  RESYNC_REQUIRED: 'resync_required',
  NOTIFICATIONS_READ: 'notifications_read',
  TOKEN_REFRESHED: 'token_refreshed',
  TOKEN_EXPIRING: 'token_expiring',
} as const;

export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const LEVELS = ['info', 'success', 'warning', 'error'] as const;
export type Level = (typeof LEVELS)[number];

/** `{total_users, total_user_connections, total_admin_connections, total_connections}` as in the specification. */
export interface ConnectionStats {
  total_users: number;
  total_user_connections: number;
  total_admin_connections: number;
  total_connections: number;
  /** Connections by transport: WebSocket and Server-Sent Events (Herald addition). */
  transports?: { ws: number; sse: number };
}

/** Fields every persisted notification carries in addition to its type's own fields. */
export interface Persisted {
  /** Unique id of the notification (use it with the inbox HTTP API). */
  id: number;
  /** The stream it belongs to. */
  stream: StreamName;
  /** Its position in that stream; strictly increasing, without gaps. */
  offset: number;
}

interface Base {
  /** ISO-8601 UTC. */
  timestamp: string;
}

/** Unread count together with the stream positions it reflects. */
export interface UnreadState {
  unread_count: number;
  /** The head of each of the recipient's streams when the count was taken. */
  unread_positions: StreamPosition;
}

export interface ConnectedMessage extends Base, UnreadState {
  type: 'connected';
  message: string;
  /** The public user id, an opaque string (`"1"`, a platform's UUID); see docs/identity.md. */
  user_id?: string;
  admin_id?: string;
  connection_stats: ConnectionStats;
  /** Id of the node that serves this connection. */
  node_id: string;
  /** Streams this connection reads, with their current heads. */
  streams: StreamPosition;
}

export type TranscodeStatus = 'pending' | 'queued' | 'processing' | 'retrying' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_TRANSCODE_STATUSES: readonly TranscodeStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Structured progress fields, so that clients can say the same as the Chinese `message` in
 * their own language (the `message` stays, as the specification has it).
 */
export interface TranscodeProgressDetail {
  /** The preset being worked on, as shown to people (`720p`, `AV1 480p`). */
  format?: string;
  /** 1-based index of `format` among the presets the job produces (0 while the source is probed). */
  step?: number;
  /** How many presets the job produces. */
  steps?: number;
  /** Presets not produced because they are above the source's resolution (e.g. `['1080p']`). */
  skipped?: string[];
  /** The source's frame size, sent with `skipped`. */
  source_width?: number;
  source_height?: number;
}

export interface TranscodeProgressMessage extends Base, TranscodeProgressDetail {
  type: 'transcode_progress';
  video_id: number;
  status: TranscodeStatus | string;
  progress: number;
  message: string;
  job_id?: string;
  /** True when sent as part of the in-flight snapshot on (re)connect. */
  snapshot?: boolean;
}

export interface TranscodeCompleteMessage extends Base, Partial<Persisted> {
  type: 'transcode_complete';
  video_id: number;
  title: string;
  format_type: string;
  file_size: number;
  job_id?: string;
}

export interface TranscodeFailedMessage extends Base, Partial<Persisted> {
  type: 'transcode_failed';
  video_id: number;
  title: string;
  error: string;
  job_id?: string;
}

export interface SystemMessage extends Base, Partial<Persisted> {
  type: 'system_message';
  message: string;
  level: Level;
}

export interface StatsMessage extends Base {
  type: 'stats';
  connection_stats: ConnectionStats;
}

export interface ErrorMessage extends Base {
  type: 'error';
  code: string;
  message: string;
}

/** Sent once after the replay of missed messages; live messages follow. */
export interface ResumedMessage extends Base {
  type: 'resumed';
  /** Positions the connection now stands at, per stream. */
  positions: StreamPosition;
  /** How many missed messages were replayed. */
  replayed: number;
}

/** The requested positions are older than the retention window: refetch the inbox over HTTP. */
export interface ResyncRequiredMessage extends Base {
  type: 'resync_required';
  streams: StreamName[];
  reason: string;
  /** Where live delivery continues from, per stream. */
  positions: StreamPosition;
}

/** Sent to every connection of a user when any of their devices marks notifications read. */
export interface NotificationsReadMessage extends Base, UnreadState {
  type: 'notifications_read';
  /** Ids marked read, or `"all"` for read-all. */
  ids: number[] | 'all';
}

/** Answer to the `auth` command: the new token was accepted and the connection now lasts until `expires_at`. */
export interface TokenRefreshedMessage extends Base {
  type: 'token_refreshed';
  /** Seconds until the new token expires. */
  expires_in: number;
  /** When the connection will be closed with 4001 unless another `auth` arrives (ISO-8601 UTC). */
  expires_at: string;
}

/** Sent shortly before the connection's token expires: send `{"type":"auth","token":…}` with a fresh one. */
export interface TokenExpiringMessage extends Base {
  type: 'token_expiring';
  /** Seconds left before the server closes the connection with 4001 "token expired". */
  expires_in: number;
}

/** The name a custom event type must have (and not be one of `MessageType`'s). */
export const CUSTOM_EVENT_TYPE = /^[a-z][a-z0-9_.:-]{0,63}$/;
/** The largest `data` of a custom event, in bytes of its JSON text. */
export const MAX_EVENT_DATA_BYTES = 8192;

/**
 * An event of a type a producer made up (`order.shipped`, `chat:typing`): its JSON `data`
 * as published. Stored ones carry `id`, `stream`, `offset`; ephemeral ones (published with
 * `"persist": false`) do not, and a slow connection gets only the latest of each type.
 */
export interface CustomEventMessage<D extends Record<string, unknown> = Record<string, unknown>> extends Base, Partial<Persisted> {
  type: string;
  data: D;
}

const BUILT_IN_TYPES: ReadonlySet<string> = new Set(Object.values(MessageType));

/** Whether `type` names a custom event type: the pattern, and none of Herald's own message types. */
export function isCustomEventType(type: string): boolean {
  return CUSTOM_EVENT_TYPE.test(type) && !BUILT_IN_TYPES.has(type);
}

export type ServerMessage =
  | ConnectedMessage
  | TranscodeProgressMessage
  | TranscodeCompleteMessage
  | TranscodeFailedMessage
  | SystemMessage
  | StatsMessage
  | ErrorMessage
  | ResumedMessage
  | ResyncRequiredMessage
  | NotificationsReadMessage
  | TokenRefreshedMessage
  | TokenExpiringMessage;

/** Notification types written to the store before they are sent. */
export type PersistedMessage = (TranscodeCompleteMessage | TranscodeFailedMessage | SystemMessage) & Persisted;

/** Types that are never stored: progress is state, not a backlog. */
export const EPHEMERAL_TYPES: ReadonlySet<string> = new Set([MessageType.TRANSCODE_PROGRESS]);

/**
 * The specification's notification types, written to the store before they are sent and
 * carrying `id`, `stream`, `offset` (custom types are stored too: every type not in `EPHEMERAL_TYPES`).
 */
export const PERSISTED_TYPES: ReadonlySet<string> = new Set([MessageType.TRANSCODE_COMPLETE, MessageType.TRANSCODE_FAILED, MessageType.SYSTEM_MESSAGE]);

/**
 * A stored notification as it goes on the wire: its type's own fields (any type a producer
 * published, the specification's or a custom one), then its place in its stream.
 */
export interface StoredMessage {
  type: string;
  [field: string]: unknown;
  id: number;
  stream: string;
  offset: number;
}

/** Client → server commands. Text `ping` and `get_stats` are accepted as in the specification. */
export const Command = {
  PING: 'ping',
  GET_STATS: 'get_stats',
  MARK_READ: 'mark_read',
  MARK_ALL_READ: 'mark_all_read',
  /** In-band token refresh: `{"type":"auth","token":"<jwt>"}`, answered by `token_refreshed` or an `error`. */
  AUTH: 'auth',
} as const;

export type ClientMessage =
  | { type: 'ping' }
  | { type: 'get_stats' }
  | { type: 'mark_read'; ids: number[] }
  | { type: 'mark_all_read' }
  | { type: 'auth'; token: string };

/** Reply to the text command `ping`. */
export const PONG = 'pong';
