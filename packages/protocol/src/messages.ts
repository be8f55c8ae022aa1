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
  user_id?: number;
  admin_id?: number;
  connection_stats: ConnectionStats;
  /** Id of the node that serves this connection. */
  node_id: string;
  /** Streams this connection reads, with their current heads. */
  streams: StreamPosition;
}

export type TranscodeStatus = 'pending' | 'queued' | 'processing' | 'retrying' | 'completed' | 'failed' | 'cancelled';
export const TERMINAL_TRANSCODE_STATUSES: readonly TranscodeStatus[] = ['completed', 'failed', 'cancelled'];

export interface TranscodeProgressMessage extends Base {
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
  | NotificationsReadMessage;

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
} as const;

export type ClientMessage =
  | { type: 'ping' }
  | { type: 'get_stats' }
  | { type: 'mark_read'; ids: number[] }
  | { type: 'mark_all_read' };

/** Reply to the text command `ping`. */
export const PONG = 'pong';
