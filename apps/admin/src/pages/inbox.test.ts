// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { InboxItem } from '../api/types.js';
import { applyRead, levelOf, matches, mergeNewest } from './inbox.js';

const item = (id: number, extra: Partial<InboxItem> = {}): InboxItem => ({
  id,
  type: 'system_message',
  stream: 'admins',
  offset: id,
  timestamp: '2026-01-01T00:00:00Z',
  read: false,
  level: 'info',
  ...extra,
});

describe('inbox helpers', () => {
  it('gives transcode results the level their outcome implies', () => {
    expect(levelOf({ type: 'transcode_failed' })).toBe('error');
    expect(levelOf({ type: 'transcode_complete' })).toBe('success');
    expect(levelOf({ type: 'system_message', level: 'warning' })).toBe('warning');
  });

  it('filters by read state, type and level', () => {
    const filters = { unreadOnly: true, types: ['system_message'], level: 'info' as const };
    expect(matches(item(1), filters)).toBe(true);
    expect(matches(item(1, { read: true }), filters)).toBe(false);
    expect(matches(item(1, { type: 'transcode_failed', level: undefined }), filters)).toBe(false);
    expect(matches(item(1, { level: 'error' }), { ...filters, level: null })).toBe(true);
  });

  it('puts live entries on top, newest first, without duplicates', () => {
    const merged = mergeNewest([item(3), item(2)], [item(5), item(3), item(4)]);
    expect(merged.map((i) => i.id)).toEqual([5, 4, 3, 2]);
  });

  it('applies reads from any device', () => {
    expect(applyRead([item(1), item(2)], [2]).map((i) => i.read)).toEqual([false, true]);
    expect(applyRead([item(1), item(2)], 'all').every((i) => i.read)).toBe(true);
  });
});
