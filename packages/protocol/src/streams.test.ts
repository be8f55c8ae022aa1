import { describe, expect, it } from 'vitest';
import { formatSince, parseSince, streamsFor } from './streams.js';
import { closeAction, reconnectHint, CloseCode } from './codes.js';
import { parseClientMessage, parseServerMessage } from './validate.js';

describe('since parameter', () => {
  it('round-trips positions of several streams', () => {
    const parsed = parseSince('user:42@17,broadcast@5,admins@0');
    expect(parsed).toEqual({ ok: true, value: { 'user:42': 17, broadcast: 5, admins: 0 } });
    if (parsed.ok) expect(parseSince(formatSince(parsed.value))).toEqual(parsed);
  });

  it.each([
    ['user:42', 'not <stream>@<offset>'],
    ['nope@1', 'unknown stream'],
    ['broadcast@-1', 'non-negative integer'],
    ['broadcast@1.5', 'non-negative integer'],
    ['broadcast@1,broadcast@2', 'twice'],
    ['user:0@1', 'unknown stream'],
    ['broadcast@9999999999999999', 'too large'],
    ['x'.repeat(600), 'longer than'],
  ])('rejects %s', (raw, error) => {
    const parsed = parseSince(raw);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain(error);
  });

  it('lists the admins stream only for admins', () => {
    expect(streamsFor(7, false)).toEqual(['user:7', 'broadcast']);
    expect(streamsFor(7, true)).toEqual(['user:7', 'admins', 'broadcast']);
  });
});

describe('close codes', () => {
  it('tells the client what to do next', () => {
    expect(closeAction(CloseCode.UNAUTHORIZED)).toBe('refreshToken');
    expect(closeAction(CloseCode.FORBIDDEN)).toBe('giveUp');
    expect(closeAction(CloseCode.SLOW_CONSUMER)).toBe('reconnect');
    expect(closeAction(1006)).toBe('reconnect');
    expect(closeAction(CloseCode.NORMAL)).toBe('done');
  });

  it('reads the reconnect hint from a going-away reason', () => {
    expect(reconnectHint('server shutting down; reconnect_after_ms=1234')).toBe(1234);
    expect(reconnectHint('server shutting down')).toBeUndefined();
  });
});

describe('client commands', () => {
  it('accepts the specification text commands and JSON forms', () => {
    expect(parseClientMessage('ping')).toEqual({ ok: true, value: { type: 'ping' } });
    expect(parseClientMessage('get_stats')).toEqual({ ok: true, value: { type: 'get_stats' } });
    expect(parseClientMessage('{"type":"mark_read","ids":[1,2]}')).toEqual({ ok: true, value: { type: 'mark_read', ids: [1, 2] } });
  });

  it('names the problem of bad input', () => {
    expect(parseClientMessage('hello')).toMatchObject({ ok: false, code: 'ERR_UNKNOWN_COMMAND' });
    expect(parseClientMessage('{bad')).toMatchObject({ ok: false, code: 'ERR_INVALID_JSON' });
    expect(parseClientMessage('{"type":"mark_read","ids":[-1]}')).toMatchObject({ ok: false, code: 'ERR_INVALID_COMMAND' });
    expect(parseClientMessage('[1]')).toMatchObject({ ok: false });
  });

  it('validates known server messages and passes unknown types', () => {
    expect(parseServerMessage('{"type":"system_message","message":"x","level":"warning","timestamp":"t"}').ok).toBe(true);
    expect(parseServerMessage('{"type":"system_message","message":"x","level":"loud"}').ok).toBe(false);
    expect(parseServerMessage('{"type":"future_type"}').ok).toBe(true);
  });
});
