import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { CloseCode } from '@herald/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startHerald, type TestHerald } from '@herald/testing/herald';

// Linux routes all of 127/8 on lo: 127.0.0.2 is "another client behind the same address".
const SHARED = '127.0.0.2';
const BOGUS = 1200;

let herald: TestHerald;
beforeAll(async () => {
  // The HTTP per-address cap (item 1) is lifted: this checks the WebSocket budget alone.
  herald = await startHerald({ WS_MAX_CONNECTIONS_PER_USER: '10', HTTP_MAX_CONNECTIONS_PER_IP: '0' });
});
afterAll(async () => {
  await herald?.stop();
});

/** A raw upgrade with a bogus token that reads the answer and never answers the close frame. */
function bogusUpgrade(port: number): Promise<{ socket: Socket; answer: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: SHARED });
    let answer = '';
    socket.on('error', () => resolve({ socket, answer }));
    socket.on('connect', () =>
      socket.write(
        `GET /api/v1/ws?token=not.a.token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (/\r\n\r\n[\s\S]{4}/.test(answer) || answer.startsWith('HTTP/1.1 4') || answer.startsWith('HTTP/1.1 5')) resolve({ socket, answer });
    });
    socket.on('close', () => resolve({ socket, answer }));
  });
}

/** The close code in a server's first frame after a 101, if it is a close frame. */
function closeCodeOf(answer: string): number | string {
  if (!answer.startsWith('HTTP/1.1 101')) return answer.split('\r\n')[0] || 'reset';
  const frame = Buffer.from(answer.slice(answer.indexOf('\r\n\r\n') + 4), 'latin1');
  return frame[0] === 0x88 ? frame.readUInt16BE(2) : `opcode ${frame[0]}`;
}

describe('refused upgrades', () => {
  it(`do not use up the per-address budget: ${BOGUS} bogus-token upgrades, then a valid user from the same address connects`, async () => {
    const port = Number(new URL(herald.url).port);
    const attacks = await Promise.all(Array.from({ length: BOGUS }, () => bogusUpgrade(port)));
    const outcomes = new Map<string, number>();
    for (const { answer } of attacks) {
      const key = String(closeCodeOf(answer));
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    console.log('bogus upgrades answered:', Object.fromEntries(outcomes));
    expect(outcomes.get(String(CloseCode.TOO_MANY_CONNECTIONS)) ?? 0).toBe(0);

    const alice = await herald.user('alice');
    const ws = new WebSocket(`${herald.wsUrl}/api/v1/ws?token=${alice.token}`, { localAddress: SHARED });
    const first = await new Promise<string>((resolve) => {
      ws.on('message', (data) => resolve(JSON.parse(data.toString()).type));
      ws.on('close', (code, reason) => resolve(`closed ${code} ${reason}`));
      ws.on('error', (error) => resolve(`error ${error.message}`));
    });
    expect(first).toBe('connected');
    ws.close();

    // A refused peer that never answers the close frame is cut within a second or so, not ws's 30 s.
    const started = Date.now();
    await Promise.all(attacks.map(({ socket }) => (socket.destroyed || socket.readableEnded ? undefined : new Promise((resolve) => socket.once('close', resolve)))));
    console.log(`refused sockets all cut by the server after ${Date.now() - started} ms more`);
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 60_000);
});
