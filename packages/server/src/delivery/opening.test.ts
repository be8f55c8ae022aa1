import { ErrorCode, streamsFor, type ServerMessage, type TranscodeProgressMessage } from '@herald/protocol';
import { describe, expect, it } from 'vitest';
import { checkSince, planOpening, type Heads, type Opening } from './opening.js';

const USER = streamsFor(7, false); // user:7, broadcast
const ADMIN = streamsFor(7, true); // user:7, admins, broadcast
const HEADS: Heads = { 'user:7': { head: 3, pruned: 0 }, admins: { head: 4, pruned: 0 }, broadcast: { head: 5, pruned: 0 } };

function opening(since: string | null, overrides: Partial<Opening> = {}): Opening {
  return {
    since,
    heads: HEADS,
    greeting: { userId: '7', username: 'ann', admin: false, stats: { total_users: 1, total_user_connections: 1, total_admin_connections: 0, total_connections: 1 }, unread: { count: 2, positions: { 'user:7': 3 } }, nodeId: 'node-1' },
    snapshot: [],
    ...overrides,
  };
}

const types = (messages: ServerMessage[]) => messages.map((m) => m.type);
const errors = (messages: ServerMessage[]) => messages.flatMap((m) => (m.type === 'error' ? [m] : []));

describe('since', () => {
  it('is absent: every stream starts at its head, with no error', () => {
    const plan = planOpening(USER, opening(null));
    expect(Object.fromEntries(plan.positions)).toEqual({ 'user:7': 3, broadcast: 5 });
    expect(types(plan.messages)).toEqual(['connected']);
  });

  it('starts each named stream at the position given', () => {
    const plan = planOpening(USER, opening('user:7@1,broadcast@5'));
    expect(Object.fromEntries(plan.positions)).toEqual({ 'user:7': 1, broadcast: 5 });
    expect(plan.messages[0]).toMatchObject({ type: 'connected', streams: { 'user:7': 1, broadcast: 5 } });
  });

  it('is malformed: one ERR_INVALID_SINCE, then every stream from its head', () => {
    const plan = planOpening(USER, opening('nonsense'));
    expect(types(plan.messages)).toEqual(['connected', 'error']);
    expect(errors(plan.messages)[0]).toMatchObject({ code: ErrorCode.INVALID_SINCE, message: expect.stringContaining('<stream>@<offset>') });
    expect(Object.fromEntries(plan.positions)).toEqual({ 'user:7': 3, broadcast: 5 });
  });

  it('names streams the connection does not read: one error each, the rest is kept', () => {
    const plan = planOpening(USER, opening('user:8@0,admins@0,broadcast@2'));
    expect(errors(plan.messages).map((e) => e.message)).toEqual([expect.stringContaining('user:8'), expect.stringContaining('admins')]);
    expect(Object.fromEntries(plan.positions)).toEqual({ 'user:7': 3, broadcast: 2 });
    expect(checkSince('admins@0', ADMIN)).toEqual({ since: { admins: 0 }, problems: [] });
  });

  it('is beyond a stream head: an error, and the stream starts at its head', () => {
    const plan = planOpening(USER, opening('broadcast@99'));
    expect(errors(plan.messages)).toEqual([expect.objectContaining({ code: ErrorCode.INVALID_SINCE, message: 'since for broadcast is 99 but the stream is at 5' })]);
    expect(plan.positions.get('broadcast')).toBe(5);
  });

  it('is older than the retention window: resync_required, and the stream starts at its head', () => {
    const plan = planOpening(USER, opening('broadcast@1', { heads: { ...HEADS, broadcast: { head: 30, pruned: 10 } } }));
    expect(types(plan.messages)).toEqual(['connected', 'resync_required']);
    expect(plan.messages[1]).toMatchObject({ streams: ['broadcast'], positions: { 'user:7': 3, broadcast: 30 } });
    expect(plan.positions.get('broadcast')).toBe(30);
  });
});

describe('opening messages', () => {
  it('come in order: connected (always first), since errors, the progress snapshot, resync_required', () => {
    const tick: TranscodeProgressMessage = { type: 'transcode_progress', video_id: 1, status: 'processing', progress: 40, message: 'x', snapshot: true, timestamp: 't' };
    const plan = planOpening(USER, opening('broadcast@99,user:7@0', { snapshot: [tick], heads: { ...HEADS, 'user:7': { head: 3, pruned: 2 } } }));
    expect(types(plan.messages)).toEqual(['connected', 'error', 'transcode_progress', 'resync_required']);
  });

  it('greet a user with the specification fields and Herald’s', () => {
    const [connected] = planOpening(USER, opening(null)).messages;
    expect(connected).toEqual({
      type: 'connected',
      message: '用户 ann 已连接',
      user_id: '7',
      connection_stats: { total_users: 1, total_user_connections: 1, total_admin_connections: 0, total_connections: 1 },
      unread_count: 2,
      unread_positions: { 'user:7': 3 },
      node_id: 'node-1',
      timestamp: expect.any(String),
      streams: { 'user:7': 3, broadcast: 5 },
    });
    expect(Object.keys(connected)).toEqual(['type', 'message', 'user_id', 'connection_stats', 'unread_count', 'unread_positions', 'node_id', 'timestamp', 'streams']);
  });

  it('greet an admin on the admin endpoint with admin_id', () => {
    const plan = planOpening(ADMIN, opening(null, { greeting: { ...opening(null).greeting, admin: true } }));
    expect(plan.messages[0]).toMatchObject({ message: '管理员 ann 已连接', admin_id: '7', streams: { 'user:7': 3, admins: 4, broadcast: 5 } });
    expect(plan.messages[0]).not.toHaveProperty('user_id');
  });
});
