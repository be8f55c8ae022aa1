import { describe, expect, it } from 'vitest';
import { backoff } from './backoff.js';

describe('backoff', () => {
  it('grows exponentially: the upper bound doubles per attempt', () => {
    const max = (attempt: number) => backoff(attempt, 1000, 1_000_000, () => 0.999999);
    expect(max(0)).toBe(1999);
    expect(max(1)).toBe(2999);
    expect(max(2)).toBe(4999);
    expect(max(3)).toBe(8999);
  });

  it('never waits less than the base interval', () => {
    for (let attempt = 0; attempt < 10; attempt++) expect(backoff(attempt, 3000, 30_000, () => 0)).toBe(3000);
  });

  it('is capped', () => {
    expect(backoff(10, 3000, 30_000, () => 0.99)).toBe(30_000);
    expect(backoff(1000, 3000, 30_000, () => 0.5)).toBe(18_000); // window capped at 30 s
  });

  it('spreads delays with full jitter over the window', () => {
    const delays = new Set(Array.from({ length: 200 }, () => backoff(3, 100, 100_000)));
    expect(delays.size).toBeGreaterThan(50);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThan(100 + 800);
    }
  });

  it('returns 0 for a zero base', () => {
    expect(backoff(5, 0, 1000)).toBe(0);
  });
});
