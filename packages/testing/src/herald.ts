// Herald in the test's own process (buildApp on port 0, a temporary data directory) and a
// recording WebSocket client for it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { buildApp, loadConfig, type BuildOptions, type Herald } from '@herald/server';
import { sleep, until } from './wait.js';

export { sleep, until };

export interface TestHerald extends Herald {
  url: string;
  wsUrl: string;
  /** Creates a user and returns it with an access token. */
  user(name: string, options?: { admin?: boolean }): Promise<{ id: number; username: string; token: string; password: string }>;
  stop(): Promise<void>;
}

/** Starts a real Herald node on an ephemeral port with a temporary data directory. */
export async function startHerald(env: Record<string, string> = {}, options: BuildOptions & { dataDir?: string } = {}): Promise<TestHerald> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-test-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    LOGIN_ATTEMPTS_PER_MINUTE: '1000',
    ...env,
  });
  const herald = await buildApp(config, options);
  const url = (await herald.listen()).replace('0.0.0.0', '127.0.0.1');
  let counter = 0;
  return {
    ...herald,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    async user(name, opts = {}) {
      const password = `pw-${name}-${++counter}-long`;
      const user = await herald.auth.createUser(name, password, opts.admin ?? false);
      const token = await herald.tokens.signAccess(user);
      return { id: user.id, username: user.username, token, password };
    },
    async stop() {
      await herald.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestSocket {
  ws: WebSocket;
  /** Every text frame received, parsed when JSON. */
  received: Array<Record<string, unknown> | string>;
  /** Waits for the next message matching the predicate (already received ones count). */
  waitFor(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitForText(text: string, timeoutMs?: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  of(type: string): Record<string, unknown>[];
  close(): void;
}

/** Opens a real WebSocket and records everything it receives. */
export function openSocket(url: string, options: { protocols?: string[]; headers?: Record<string, string> } = {}): TestSocket {
  const ws = new WebSocket(url, options.protocols, { headers: options.headers });
  const received: TestSocket['received'] = [];
  const waiters = new Set<() => void>();
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    try {
      received.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      received.push(text);
    }
    for (const wake of waiters) wake();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of waiters) wake();
    });
  });
  const waitUntil = <T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found !== undefined) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(received).slice(0, 1500)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  let cursor = 0;
  return {
    ws,
    received,
    closed,
    waitFor(match, timeoutMs = 5000) {
      return waitUntil(
        () => {
          for (; cursor < received.length; cursor++) {
            const m = received[cursor];
            if (typeof m === 'object' && match(m)) {
              cursor++;
              return m;
            }
          }
          return undefined;
        },
        timeoutMs,
        'a matching message',
      );
    },
    waitForText(text, timeoutMs = 5000) {
      return waitUntil(() => (received.includes(text) ? true : undefined), timeoutMs, `text "${text}"`).then(() => undefined);
    },
    of(type) {
      return received.filter((m): m is Record<string, unknown> => typeof m === 'object' && m.type === type);
    },
    close() {
      ws.close();
    },
  };
}
