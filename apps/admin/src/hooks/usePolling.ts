import { useEffect, useRef } from 'react';

/** Calls `fn` now and every `intervalMs` while mounted (and `enabled`); the latest `fn` is used. */
export function usePolling(fn: () => void, intervalMs: number, enabled = true): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (!enabled) return undefined;
    latest.current();
    const timer = setInterval(() => latest.current(), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, enabled]);
}
