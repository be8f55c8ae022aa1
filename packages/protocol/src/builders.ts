import type { StreamName, StreamPosition } from './streams.js';
import {
  MessageType,
  type ConnectedMessage,
  type ConnectionStats,
  type CustomEventMessage,
  type ErrorMessage,
  type Level,
  type NotificationsReadMessage,
  type ResumedMessage,
  type ResyncRequiredMessage,
  type StatsMessage,
  type StoredMessage,
  type SystemMessage,
  type TranscodeCompleteMessage,
  type TranscodeFailedMessage,
  type TranscodeProgressMessage,
  type TokenExpiringMessage,
  type TokenRefreshedMessage,
} from './messages.js';

/**
 * One builder per server message: the only way the server makes a message, so every field
 * a type promises is there and named as on the wire. Fields keep the order the server has
 * always sent them in; `timestamp` is now unless given.
 */

/** The current time as the wire writes it (ISO-8601 UTC). */
export const isoNow = (): string => new Date().toISOString();

type Fields<M> = Omit<M, 'type' | 'timestamp'> & { timestamp?: string };

export function connectedMessage(fields: Fields<ConnectedMessage>): ConnectedMessage {
  const { message, user_id, admin_id, connection_stats, unread_count, unread_positions, node_id, timestamp, streams } = fields;
  const id = admin_id !== undefined ? { admin_id } : user_id !== undefined ? { user_id } : {};
  return {
    type: MessageType.CONNECTED,
    message,
    ...id,
    connection_stats,
    unread_count,
    unread_positions,
    node_id,
    timestamp: timestamp ?? isoNow(),
    streams,
  };
}

/** Progress of a transcode job; extra fields (e.g. `user_id` for the progress board) ride along. */
export function transcodeProgressMessage<F extends Fields<TranscodeProgressMessage>>(fields: F): TranscodeProgressMessage & Omit<F, 'timestamp'> {
  return { type: MessageType.TRANSCODE_PROGRESS, ...fields, timestamp: fields.timestamp ?? isoNow() };
}

export function transcodeCompleteMessage(fields: Fields<TranscodeCompleteMessage>): TranscodeCompleteMessage {
  return { type: MessageType.TRANSCODE_COMPLETE, ...fields, timestamp: fields.timestamp ?? isoNow() };
}

export function transcodeFailedMessage(fields: Fields<TranscodeFailedMessage>): TranscodeFailedMessage {
  return { type: MessageType.TRANSCODE_FAILED, ...fields, timestamp: fields.timestamp ?? isoNow() };
}

export function systemMessage(message: string, level: Level, timestamp: string = isoNow()): SystemMessage {
  return { type: MessageType.SYSTEM_MESSAGE, message, level, timestamp };
}

export function statsMessage(stats: ConnectionStats): StatsMessage {
  return { type: MessageType.STATS, connection_stats: stats, timestamp: isoNow() };
}

/** An `error` message: `code` is an `ErrorCode` (`ERR_*`), `error` says what was wrong. */
export function errorMessage(code: string, error: string): ErrorMessage {
  return { type: MessageType.ERROR, code, message: error, timestamp: isoNow() };
}

export function resumedMessage(positions: StreamPosition, replayed: number): ResumedMessage {
  return { type: MessageType.RESUMED, positions, replayed, timestamp: isoNow() };
}

export function resyncRequiredMessage(streams: StreamName[], reason: string, positions: StreamPosition): ResyncRequiredMessage {
  return { type: MessageType.RESYNC_REQUIRED, streams, reason, positions, timestamp: isoNow() };
}

export function notificationsReadMessage(ids: number[] | 'all', unread: { count: number; positions: StreamPosition }): NotificationsReadMessage {
  return { type: MessageType.NOTIFICATIONS_READ, ids, unread_count: unread.count, unread_positions: unread.positions, timestamp: isoNow() };
}

/**
 * A stored notification on the wire: `{type, ...payload, id, stream, offset}`. The payload is
 * what the producer published (it carries its own `timestamp`).
 */
export function storedMessage(type: string, payload: Readonly<Record<string, unknown>>, at: { id: number; stream: string; offset: number }): StoredMessage {
  return { type, ...payload, id: at.id, stream: at.stream, offset: at.offset };
}

/** The answer to an accepted `auth` command; `expiresAt` is epoch milliseconds. */
export function tokenRefreshedMessage(expiresAt: number): TokenRefreshedMessage {
  return {
    type: MessageType.TOKEN_REFRESHED,
    expires_in: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)),
    expires_at: new Date(expiresAt).toISOString(),
    timestamp: isoNow(),
  };
}

/** The hint before expiry; `expiresAt` is epoch milliseconds. */
export function tokenExpiringMessage(expiresAt: number): TokenExpiringMessage {
  return { type: MessageType.TOKEN_EXPIRING, expires_in: Math.max(0, Math.round((expiresAt - Date.now()) / 1000)), timestamp: isoNow() };
}

/** A custom event (`type` matching `CUSTOM_EVENT_TYPE`) with its producer's `data`. */
export function customEventMessage<D extends Record<string, unknown>>(type: string, data: D, timestamp: string = isoNow()): CustomEventMessage<D> {
  return { type, data, timestamp };
}
