/**
 * Reconnect delay for the given attempt: exponential growth with capped full jitter.
 *
 * The exponential window `min(cap, base * 2^attempt)` is drawn from uniformly and added
 * to `base`, and the result is capped: many clients dropped by one server restart then
 * spread their reconnects instead of arriving together, while no client waits less than
 * `base` or longer than `cap`.
 *
 * @param attempt zero-based reconnect attempt (0 for the first retry)
 * @param base minimum delay in ms (the spec's `reconnectInterval`)
 * @param cap maximum delay in ms
 * @param random source of uniform numbers in [0, 1); injectable for tests
 *
 * @example
 * backoff(0, 3000, 30000); // between 3000 and 6000
 * backoff(10, 3000, 30000); // 30000 at most
 */
export function backoff(attempt: number, base: number, cap: number, random: () => number = Math.random): number {
  if (base <= 0) return 0;
  const step = Math.min(Math.max(0, Math.floor(attempt)), 31);
  const window = Math.min(cap, base * 2 ** step);
  return Math.min(cap, Math.floor(base + random() * window));
}
