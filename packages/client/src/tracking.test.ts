import { describe, expect, it } from 'vitest';
import { PositionTracker, UnreadTracker } from './tracking.js';

describe('PositionTracker', () => {
  it('drops messages at or below the seen offset and repeated ids', () => {
    const t = new PositionTracker({ broadcast: 5 });
    expect(t.accept('broadcast', 5, 1)).toBe(false);
    expect(t.accept('broadcast', 6, 2)).toBe(true);
    expect(t.accept('broadcast', 6, 3)).toBe(false);
    expect(t.accept('user:1', 1, 2)).toBe(false);
    expect(t.positions).toEqual({ broadcast: 6 });
  });

  it('advance never goes backwards, reset does', () => {
    const t = new PositionTracker({ a: 10 });
    t.advance({ a: 3, b: 4 });
    expect(t.positions).toEqual({ a: 10, b: 4 });
    t.reset({ a: 2 });
    expect(t.positions).toEqual({ a: 2, b: 4 });
  });

  it('forgets ids when reset moves backwards (the server streams were reset)', () => {
    const t = new PositionTracker();
    expect(t.accept('a', 5, 77)).toBe(true);
    t.reset({ a: 5 });
    expect(t.accept('a', 6, 77)).toBe(false);
    t.reset({ a: 0 });
    expect(t.accept('a', 1, 77)).toBe(true);
  });
});

describe('UnreadTracker', () => {
  it('does not apply a count taken at older positions over a newer one', () => {
    const u = new UnreadTracker();
    expect(u.applyServer(3, { 'user:1': 10, broadcast: 4 })).toBe(true);
    expect(u.applyServer(7, { 'user:1': 9, broadcast: 4 })).toBe(false);
    expect(u.count).toBe(3);
    expect(u.applyServer(1, { 'user:1': 10, broadcast: 4 })).toBe(true);
    expect(u.count).toBe(1);
  });

  it('adds messages newer than the applied count, and keeps them when an older-covering count arrives', () => {
    const u = new UnreadTracker();
    u.applyServer(2, { 'user:1': 10 });
    u.addLocal('user:1', 10); // covered by the count
    expect(u.count).toBe(2);
    u.addLocal('user:1', 11);
    u.addLocal('user:1', 12);
    expect(u.count).toBe(4);
    // a count taken after message 11 but before 12 arrived
    u.applyServer(3, { 'user:1': 11 });
    expect(u.count).toBe(4);
    u.applyServer(0, { 'user:1': 12 });
    expect(u.count).toBe(0);
  });
});
