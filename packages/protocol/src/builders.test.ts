import { describe, expect, it } from 'vitest';
import {
  customEventMessage,
  connectedMessage,
  errorMessage,
  notificationsReadMessage,
  resumedMessage,
  resyncRequiredMessage,
  statsMessage,
  storedMessage,
  systemMessage,
  transcodeCompleteMessage,
  transcodeFailedMessage,
  transcodeProgressMessage,
} from './builders.js';
import { PERSISTED_TYPES, TERMINAL_TRANSCODE_STATUSES, isCustomEventType, type ServerMessage } from './messages.js';
import { isCustomEvent, isServerMessage, parseServerMessage } from './validate.js';

const STATS = { total_users: 1, total_user_connections: 1, total_admin_connections: 0, total_connections: 1 };

describe('message builders', () => {
  const built: ServerMessage[] = [
    connectedMessage({ message: 'hi', user_id: '1', connection_stats: STATS, unread_count: 0, unread_positions: {}, node_id: 'n', streams: { broadcast: 0 } }),
    transcodeProgressMessage({ video_id: 1, status: 'processing', progress: 5, message: 'm' }),
    transcodeCompleteMessage({ video_id: 1, title: 't', format_type: 'av1', file_size: 9 }),
    transcodeFailedMessage({ video_id: 1, title: 't', error: 'e' }),
    systemMessage('hello', 'warning'),
    statsMessage(STATS),
    errorMessage('ERR_INVALID_SINCE', 'bad since'),
    resumedMessage({ broadcast: 3 }, 2),
    resyncRequiredMessage(['broadcast'], 'pruned', { broadcast: 9 }),
    notificationsReadMessage([1, 2], { count: 3, positions: { broadcast: 9 } }),
  ];

  it.each(built.map((m) => [m.type, m] as const))('builds a valid %s with an ISO-8601 timestamp', (_type, message) => {
    expect(parseServerMessage(JSON.stringify(message))).toEqual({ ok: true, value: message });
    expect(new Date(message.timestamp).toISOString()).toBe(message.timestamp);
  });

  it('names the fields as on the wire', () => {
    expect(errorMessage('ERR_X', 'what went wrong')).toEqual({ type: 'error', code: 'ERR_X', message: 'what went wrong', timestamp: expect.any(String) });
    expect(notificationsReadMessage('all', { count: 0, positions: { 'user:1': 4 } })).toMatchObject({ ids: 'all', unread_count: 0, unread_positions: { 'user:1': 4 } });
    expect(systemMessage('x', 'info', '2026-01-01T00:00:00.000Z').timestamp).toBe('2026-01-01T00:00:00.000Z');
  });

  it('puts a stored notification’s position after its fields', () => {
    const message = storedMessage('system_message', { message: 'm', level: 'info', timestamp: 't' }, { id: 4, stream: 'broadcast', offset: 2 });
    expect(Object.keys(message)).toEqual(['type', 'message', 'level', 'timestamp', 'id', 'stream', 'offset']);
  });
});

describe('shared constants and guards', () => {
  it('lists the terminal transcode statuses and the persisted types once', () => {
    expect(TERMINAL_TRANSCODE_STATUSES).toEqual(['completed', 'failed', 'cancelled']);
    expect([...PERSISTED_TYPES]).toEqual(['transcode_complete', 'transcode_failed', 'system_message']);
  });

  it('recognises a message of a type only with its required fields', () => {
    expect(isServerMessage(transcodeProgressMessage({ video_id: 1, status: 'queued', progress: 0, message: '' }), 'transcode_progress')).toBe(true);
    expect(isServerMessage({ type: 'transcode_progress', video_id: 1 }, 'transcode_progress')).toBe(false);
    expect(isServerMessage(systemMessage('x', 'info'), 'transcode_progress')).toBe(false);
    expect(isServerMessage('transcode_progress', 'transcode_progress')).toBe(false);
  });

  it('tells custom event types from Herald\'s own, and builds and recognises custom events', () => {
    for (const type of ['order.shipped', 'chat:typing', 'a', 'video-1_ready']) expect(isCustomEventType(type)).toBe(true);
    for (const type of ['Order', '1abc', 'connected', 'transcode_progress', 'stats', 'a b', `a${'x'.repeat(64)}`]) expect(isCustomEventType(type)).toBe(false);
    const event = customEventMessage('order.shipped', { order: 42 }, 't');
    expect(event).toEqual({ type: 'order.shipped', data: { order: 42 }, timestamp: 't' });
    expect(isCustomEvent(event)).toBe(true);
    expect(isCustomEvent({ type: 'order.shipped', data: [1] })).toBe(false);
    expect(isCustomEvent(systemMessage('x', 'info'))).toBe(false);
  });
});

describe('transcode_progress structured fields', () => {
  it('carries format, step, steps and skipped beside the Chinese message, and checks them when present', () => {
    const message = transcodeProgressMessage({ video_id: 3, status: 'processing', progress: 40, message: '正在转码 720p (1/2)', format: '720p', step: 1, steps: 2, skipped: ['1080p'], source_width: 1280, source_height: 720 });
    expect(parseServerMessage(JSON.stringify(message))).toEqual({ ok: true, value: message });
    expect(parseServerMessage(JSON.stringify({ ...message, step: '1' }))).toMatchObject({ ok: false, error: 'transcode_progress.step is missing or invalid' });
    expect(parseServerMessage(JSON.stringify({ ...message, skipped: '1080p' }))).toMatchObject({ ok: false, error: 'transcode_progress.skipped is missing or invalid' });
  });
});
