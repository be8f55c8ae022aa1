import { describe, expect, it } from 'vitest';
import { UserBudget } from './user-budget.js';

describe('UserBudget', () => {
  it('allows spends while the cost is in the bucket, refills over a minute, and keeps users apart', () => {
    const budget = new UserBudget(60);
    expect(budget.spend(1, 40, 0)).toEqual({ ok: true });
    expect(budget.spend(1, 30, 0)).toEqual({ ok: false, retryAfterMs: 10_000 });
    expect(budget.spend(2, 60, 0)).toEqual({ ok: true });
    expect(budget.spend(1, 30, 10_000)).toEqual({ ok: true });
    expect(budget.spend(1, 0, 10_000)).toEqual({ ok: true });
  });

  it('lets a spend larger than the whole budget through on a full bucket, then waits out the debt', () => {
    const budget = new UserBudget(100);
    expect(budget.spend(1, 250, 0)).toEqual({ ok: true });
    expect(budget.spend(1, 1, 0)).toEqual({ ok: false, retryAfterMs: 90_600 });
    expect(budget.spend(1, 1, 91_000)).toEqual({ ok: true });
  });
});
