import { ErrorCode } from './codes.js';
import { LEVELS, MessageType, isCustomEventType, type ClientMessage, type CustomEventMessage, type Level, type ServerMessage } from './messages.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: string; error: string };

const MAX_IDS = 1000;
const MAX_TOKEN_LENGTH = 8192;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

export function isLevel(v: unknown): v is Level {
  return typeof v === 'string' && (LEVELS as readonly string[]).includes(v);
}

/**
 * Parses one inbound text frame into a command. Accepts the specification's plain-text
 * commands (`ping`, `get_stats`) and JSON objects `{"type": ...}`.
 */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  const trimmed = text.trim();
  if (trimmed === 'ping' || trimmed === 'get_stats' || trimmed === 'mark_all_read') {
    return { ok: true, value: { type: trimmed } };
  }
  if (!trimmed.startsWith('{')) {
    return {
      ok: false,
      code: ErrorCode.UNKNOWN_COMMAND,
      error: `unknown command "${trimmed.slice(0, 32)}"; expected ping, get_stats or a JSON command`,
    };
  }
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch {
    return { ok: false, code: ErrorCode.INVALID_JSON, error: 'message is not valid JSON' };
  }
  if (!isRecord(data) || !isStr(data.type)) {
    return { ok: false, code: ErrorCode.INVALID_COMMAND, error: 'JSON command needs a string "type"' };
  }
  switch (data.type) {
    case 'ping':
    case 'get_stats':
    case 'mark_all_read':
      return { ok: true, value: { type: data.type } };
    case 'mark_read': {
      const ids = data.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every((id) => isInt(id) && id > 0)) {
        return { ok: false, code: ErrorCode.INVALID_COMMAND, error: `mark_read needs "ids": 1..${MAX_IDS} positive integers` };
      }
      return { ok: true, value: { type: 'mark_read', ids } };
    }
    case 'auth': {
      const token = data.token;
      if (!isStr(token) || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        return { ok: false, code: ErrorCode.INVALID_COMMAND, error: `auth needs "token": a JWT of 1..${MAX_TOKEN_LENGTH} characters` };
      }
      return { ok: true, value: { type: 'auth', token } };
    }
    default:
      return { ok: false, code: ErrorCode.UNKNOWN_COMMAND, error: `unknown command type "${data.type.slice(0, 32)}"` };
  }
}

const REQUIRED: Record<string, Record<string, (v: unknown) => boolean>> = {
  [MessageType.CONNECTED]: { message: isStr, connection_stats: isRecord },
  [MessageType.TRANSCODE_PROGRESS]: { video_id: isInt, status: isStr, progress: (v) => typeof v === 'number', message: isStr },
  [MessageType.TRANSCODE_COMPLETE]: { video_id: isInt, title: isStr, format_type: isStr, file_size: (v) => typeof v === 'number' },
  [MessageType.TRANSCODE_FAILED]: { video_id: isInt, title: isStr, error: isStr },
  [MessageType.SYSTEM_MESSAGE]: { message: isStr, level: isLevel },
  [MessageType.STATS]: { connection_stats: isRecord },
  [MessageType.ERROR]: { code: isStr, message: isStr },
  [MessageType.RESUMED]: { positions: isRecord, replayed: isInt },
  [MessageType.RESYNC_REQUIRED]: { streams: Array.isArray, positions: isRecord },
  [MessageType.NOTIFICATIONS_READ]: { unread_count: isInt },
  [MessageType.TOKEN_REFRESHED]: { expires_in: isInt, expires_at: isStr },
  [MessageType.TOKEN_EXPIRING]: { expires_in: isInt },
};

const isNonNegInt = (v: unknown) => isInt(v) && (v as number) >= 0;

/** Fields a known type may carry; when present they must be well formed. */
const OPTIONAL: Record<string, Record<string, (v: unknown) => boolean>> = {
  [MessageType.TRANSCODE_PROGRESS]: {
    format: isStr,
    step: isNonNegInt,
    steps: isNonNegInt,
    skipped: (v) => Array.isArray(v) && v.every(isStr),
    source_width: isNonNegInt,
    source_height: isNonNegInt,
  },
};

/**
 * Parses one server frame. Unknown message types are accepted as-is (servers may add
 * types); known types must carry their required fields.
 */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  if (text === 'pong') return { ok: false, code: 'PONG', error: 'pong' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, code: ErrorCode.INVALID_JSON, error: 'server message is not valid JSON' };
  }
  if (!isRecord(data) || !isStr(data.type)) {
    return { ok: false, code: ErrorCode.INVALID_COMMAND, error: 'server message has no type' };
  }
  const missing = missingField(data);
  if (missing !== undefined) return { ok: false, code: ErrorCode.VALIDATION, error: `${data.type}.${missing} is missing or invalid` };
  return { ok: true, value: data as unknown as ServerMessage };
}

/** The first required field of a known type that is missing or invalid. */
function missingField(data: Record<string, unknown>): string | undefined {
  const required = REQUIRED[String(data.type)];
  if (!required) return undefined;
  for (const [field, check] of Object.entries(required)) if (!check(data[field])) return field;
  for (const [field, check] of Object.entries(OPTIONAL[String(data.type)] ?? {})) if (data[field] !== undefined && !check(data[field])) return field;
  return undefined;
}

/**
 * Whether an already parsed value is a server message of `type` with its required fields.
 *
 * @example
 * if (isServerMessage(value, 'transcode_progress')) board.update(value);
 */
export function isServerMessage<T extends ServerMessage['type']>(value: unknown, type: T): value is Extract<ServerMessage, { type: T }> {
  return isRecord(value) && value.type === type && missingField(value) === undefined;
}

/** Whether an already parsed value is a custom event: a custom type and a `data` object. */
export function isCustomEvent(value: unknown): value is CustomEventMessage {
  return isRecord(value) && typeof value.type === 'string' && isCustomEventType(value.type) && isRecord(value.data);
}
