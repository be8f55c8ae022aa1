import { describe, expect, it } from 'vitest';
import { StreamOrder } from './reorder.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function recorder(waitMs = 40) {
  const out: string[] = [];
  const order = new StreamOrder<string>((stream, item) => out.push(`${stream}:${item}`), waitMs);
  return { out, order };
}

describe('StreamOrder', () => {
  it('hands messages on at once while they come in order', () => {
    const { out, order } = recorder();
    order.offer('admins', 5, 'a');
    order.offer('admins', 6, 'b');
    order.offer('user:1', 1, 'x');
    expect(out).toEqual(['admins:a', 'admins:b', 'user:1:x']);
    expect(order.waiting).toBe(0);
  });

  it('holds a message that overtook an earlier one and hands both on in offset order when the gap fills', () => {
    const { out, order } = recorder();
    order.offer('admins', 1, 'first');
    order.offer('admins', 4, 'fourth');
    order.offer('admins', 3, 'third');
    expect(out).toEqual(['admins:first']);
    expect(order.waiting).toBe(2);
    order.offer('admins', 2, 'second');
    expect(out).toEqual(['admins:first', 'admins:second', 'admins:third', 'admins:fourth']);
    expect(order.waiting).toBe(0);
  });

  it('keeps streams apart: a gap in one does not hold another', () => {
    const { out, order } = recorder();
    order.offer('user:1', 1, 'a');
    order.offer('user:1', 3, 'c');
    order.offer('user:2', 1, 'x');
    order.offer('user:2', 2, 'y');
    expect(out).toEqual(['user:1:a', 'user:2:x', 'user:2:y']);
  });

  it('after the wait, hands on what came in offset order and expects the offset after it', async () => {
    const { out, order } = recorder(30);
    order.offer('admins', 1, 'one');
    order.offer('admins', 4, 'four');
    order.offer('admins', 3, 'three');
    await sleep(80);
    expect(out).toEqual(['admins:one', 'admins:three', 'admins:four']);
    order.offer('admins', 5, 'five');
    order.offer('admins', 2, 'two, late'); // behind: handed on (connections ignore what they have)
    expect(out.slice(3)).toEqual(['admins:five', 'admins:two, late']);
    expect(order.waiting).toBe(0);
  });

  it('forgets a stream with what it held', async () => {
    const { out, order } = recorder(20);
    order.offer('user:9', 1, 'a');
    order.offer('user:9', 3, 'c');
    order.forget('user:9');
    await sleep(50);
    expect(out).toEqual(['user:9:a']);
    order.offer('user:9', 7, 'g'); // a fresh start
    expect(out).toEqual(['user:9:a', 'user:9:g']);
  });
});
