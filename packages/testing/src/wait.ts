export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (sync or async) every 20 ms until it returns true; resolves with the time it
 * took in ms. `what` names the condition in the timeout error (a function for a message
 * computed at failure time).
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(20);
  }
}
