import { CloseCode, ErrorCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSocket, startHerald, type TestHerald } from '@herald/testing/herald';

// #19 item 8: resume (`since=broadcast@0` reconnect loops) and read-all are bounded per user.
const ROWS = 300;

let herald: TestHerald;
let mallory: Awaited<ReturnType<TestHerald['user']>>;
let alice: Awaited<ReturnType<TestHerald['user']>>;

beforeAll(async () => {
  // Budgets small enough to reach in a test: three full replays of ROWS, three read-alls.
  herald = await startHerald({ RESUME_ROWS_PER_MINUTE: String(ROWS * 3), READ_ALL_PER_MINUTE: '3' });
  mallory = await herald.user('mallory');
  alice = await herald.user('alice');
  for (let i = 0; i < ROWS; i++) await herald.notifications.notifySystemMessage(`backlog ${i}`, 'info', 'all');
});
afterAll(async () => {
  await herald?.stop();
});

/** Connects with `since=broadcast@0` and resolves with the replay count or the close. */
async function resumeFromZero(token: string): Promise<{ replayed?: number; close?: { code: number; reason: string } }> {
  const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${token}&since=broadcast@0`);
  const outcome = await Promise.race([
    socket.waitFor((m) => m.type === 'resumed', 10_000).then((m) => ({ replayed: m.replayed as number })),
    socket.closed.then((close) => ({ close })),
  ]);
  socket.ws.terminate();
  return outcome;
}

describe('work bounded per user', () => {
  it('limits a user looping resumes from broadcast@0, with a documented close, while another user resumes', async () => {
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await resumeFromZero(mallory.token));
    const replays = outcomes.filter((o) => o.replayed !== undefined);
    const refused = outcomes.filter((o) => o.close !== undefined);
    expect(replays.length).toBeGreaterThanOrEqual(3);
    expect(replays.length).toBeLessThanOrEqual(4);
    expect(replays[0].replayed).toBe(ROWS);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const { close } of refused) {
      expect(close!.code).toBe(CloseCode.RESUME_LIMITED);
      expect(close!.reason).toMatch(/reconnect_after_ms=\d+/);
    }
    // Another user is unaffected.
    expect(await resumeFromZero(alice.token)).toEqual({ replayed: ROWS });
  });

  it('limits mark_all_read per user over the WebSocket and POST read-all, sharing one budget; others unaffected', async () => {
    const socket = openSocket(`${herald.wsUrl}/api/v1/ws?token=${mallory.token}`);
    await socket.waitFor((m) => m.type === 'connected');
    for (let i = 0; i < 4; i++) socket.ws.send(JSON.stringify({ type: 'mark_all_read' }));
    const limited = await socket.waitFor((m) => m.type === 'error' && m.code === ErrorCode.RATE_LIMITED);
    expect(String(limited.message)).toMatch(/mark_all_read/);
    const http = await fetch(`${herald.url}/api/v1/notifications/read-all`, { method: 'POST', headers: { authorization: `Bearer ${mallory.token}` } });
    expect(http.status).toBe(429);
    expect(((await http.json()) as { error: string }).error).toBe(ErrorCode.RATE_LIMITED);
    expect(http.headers.get('retry-after')).toMatch(/^\d+$/);
    const other = await fetch(`${herald.url}/api/v1/notifications/read-all`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` } });
    expect(other.status).toBe(200);
    socket.close();
  });
});
