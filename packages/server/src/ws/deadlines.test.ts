import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Deadlines', () => {
  it('runs each callback once, not before its time, earliest first, whatever order they were added in', async () => {
    const deadlines = new Deadlines();
    const start = Date.now();
    const ran: Array<[string, number]> = [];
    const at = (name: string, ms: number) => deadlines.add(start + ms, () => ran.push([name, Date.now() - start]));
    at('late', 120);
    at('early', 40);
    at('middle', 80);
    at('early-too', 40);
    await sleep(220);
    expect(ran.map(([name]) => name)).toEqual(['early', 'early-too', 'middle', 'late']);
    for (const [name, elapsed] of ran) expect(elapsed, name).toBeGreaterThanOrEqual(name === 'late' ? 120 : name === 'middle' ? 80 : 40);
    expect(deadlines.size).toBe(0);
  });

  it('forgets a removed callback, and keeps the others of its millisecond', async () => {
    const deadlines = new Deadlines();
    const at = Date.now() + 30;
    const ran: string[] = [];
    const a = () => ran.push('a');
    const b = () => ran.push('b');
    deadlines.add(at, a);
    deadlines.add(at, b);
    deadlines.remove(at, a);
    deadlines.remove(at + 1, b); // not where b waits: nothing happens
    await sleep(80);
    expect(ran).toEqual(['b']);
    deadlines.remove(at, b); // already ran: a no-op
    expect(deadlines.size).toBe(0);
  });

  it('runs a deadline already past at once, and one a callback adds while the timer fires', async () => {
    const deadlines = new Deadlines();
    const ran: string[] = [];
    deadlines.add(Date.now() - 1000, () => {
      ran.push('past');
      deadlines.add(Date.now() + 20, () => ran.push('added by a callback'));
    });
    await sleep(60);
    expect(ran).toEqual(['past', 'added by a callback']);
  });

  it('waits for a deadline beyond what one Node timer can hold instead of running it early', async () => {
    const deadlines = new Deadlines();
    let ran = false;
    const far = Date.now() + 2 ** 31 + 60_000;
    const run = () => (ran = true);
    deadlines.add(far, run);
    await sleep(30);
    expect(ran).toBe(false);
    deadlines.remove(far, () => undefined); // another callback: this one stays
    expect(deadlines.size).toBe(1);
    deadlines.remove(far, run);
    expect(deadlines.size).toBe(0);
  });
});
