import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from './logging.js';
import { duplicateKeys } from '@herald/testing';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

describe('duplicateKeys', () => {
  it('finds a key repeated in one object, not the same key in sibling or nested objects', () => {
    expect(duplicateKeys('{"level":30,"msg":"x","level":"warning"}')).toEqual(['level']);
    expect(duplicateKeys('{"a":{"level":1},"b":[{"level":2},{"level":3}],"level":4,"s":"\\"level\\":"}')).toEqual([]);
  });
});

describe('server logs', () => {
  let herald: TestHerald;
  const lines: string[] = [];

  beforeAll(async () => {
    herald = await startHerald({ LOG_LEVEL: 'debug' }, { logStream: { write: (line) => void lines.push(line) } });
    const admin = await herald.user('logger', { admin: true });
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/v1/ws/stats']) await (await fetch(`${herald.url}${path}`)).text();
    const published = await fetch(`${herald.url}/api/v1/notifications`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'maintenance', level: 'warning', target: 'all' }),
    });
    expect(published.status).toBe(202);
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${admin.token}`, { headers: { Origin: 'http://elsewhere.example' } });
    await socket.closed;
    await herald.stop();
  });

  it('writes no line with a duplicate key', () => {
    expect(lines.length).toBeGreaterThan(10);
    const offending = lines.filter((line) => duplicateKeys(line).length > 0);
    expect(offending).toEqual([]);
    const sent = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => String(l.msg).includes('system message sent'));
    expect(sent).toMatchObject({ level: 30, msg_level: 'warning' });
  });

  it('logs probes and scrapes at debug, other requests at info', () => {
    const requests = lines.map((l) => JSON.parse(l) as { level: number; msg: string; req?: { url: string } }).filter((l) => l.msg === 'incoming request');
    const levelOf = (url: string) => requests.find((l) => l.req?.url === url)?.level;
    expect(['/healthz', '/readyz', '/metrics'].map(levelOf)).toEqual([20, 20, 20]);
    expect(levelOf('/api/v1/ws/stats')).toBe(30);
    const completed = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.msg === 'request completed');
    expect(completed.filter((l) => l.level === 20)).toHaveLength(3);
  });
});

describe('log format', () => {
  it('is pino-pretty on a terminal and JSON when stdout is piped or a stream is given', () => {
    const tty = process.stdout.isTTY;
    try {
      process.stdout.isTTY = true;
      expect(loggerOptions('info', {}).transport).toMatchObject({ target: 'pino-pretty' });
      expect(loggerOptions('info', {}, { write: () => undefined }).transport).toBeUndefined();
      process.stdout.isTTY = false;
      expect(loggerOptions('info', {}).transport).toBeUndefined();
    } finally {
      process.stdout.isTTY = tty;
    }
  });
});
