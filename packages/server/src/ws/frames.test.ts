import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { FrameWriter, SharedFrame } from './frames.js';

/** The RFC 6455 server frame of a text message: FIN + text opcode, unmasked, 7/16/64-bit length. */
function expectedFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0x81, n]) : n < 65536 ? Buffer.from([0x81, 126, n >> 8, n & 0xff]) : Buffer.concat([Buffer.from([0x81, 127]), Buffer.from(BigInt(n).toString(16).padStart(16, '0'), 'hex')]);
  return Buffer.concat([header, payload]);
}

describe('SharedFrame', () => {
  it.each([0, 1, 125, 126, 65_535, 65_536, 200_000])('frames a %i-byte text message once, as ws.send would', (size) => {
    const payload = Buffer.alloc(size, 'a');
    const shared = new SharedFrame(payload);
    expect(shared.payload).toBe(payload);
    expect(shared.frame?.equals(expectedFrame(payload))).toBe(true);
  });
});

/** A real ws server on an ephemeral port; resolves with the server side of one client's socket and the client. */
async function pair(): Promise<{ server: WebSocket; client: WebSocket; chunks: () => number; received: string[]; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  const { port } = wss.address() as AddressInfo;
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const received: string[] = [];
  client.on('message', (data) => received.push(data.toString()));
  const [server] = (await once(wss, 'connection')) as [WebSocket];
  await once(client, 'open');
  // What crosses the wire: TCP reads on the client side (one write of several frames arrives as one).
  let chunks = 0;
  (client as unknown as { _socket: Socket })._socket.prependListener('data', () => chunks++);
  return {
    server,
    client,
    chunks: () => chunks,
    received,
    close: async () => {
      client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

const frame = (text: string) => new SharedFrame(Buffer.from(text));
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
};

describe('FrameWriter', () => {
  it('writes the live frames due in one pass of the event loop in one socket write, in order', async () => {
    const p = await pair();
    try {
      const writer = new FrameWriter(p.server);
      writer.write(frame('a'));
      writer.write(frame('b'));
      writer.write(frame('c'));
      await until(() => p.received.length === 3);
      expect(p.received).toEqual(['a', 'b', 'c']);
      expect(p.chunks()).toBe(1);
    } finally {
      await p.close();
    }
  });

  it('with a write delay, frames from separate timers share the delay window and arrive together', async () => {
    const p = await pair();
    try {
      const writer = new FrameWriter(p.server, 60);
      writer.write(frame('first'));
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(p.received).toEqual([]);
      writer.write(frame('second'));
      await until(() => p.received.length === 2);
      expect(p.received).toEqual(['first', 'second']);
      expect(p.chunks()).toBe(1);
    } finally {
      await p.close();
    }
  });

  it('keeps order when a reply follows held live frames', async () => {
    const p = await pair();
    try {
      const writer = new FrameWriter(p.server, 60);
      writer.write(frame('live-1'));
      writer.write('{"type":"pong"}');
      writer.write(frame('live-2'));
      await until(() => p.received.length === 3);
      expect(p.received).toEqual(['live-1', '{"type":"pong"}', 'live-2']);
    } finally {
      await p.close();
    }
  });

  it('gives each socket its own frames when sockets of one flush hold the same frames and then different ones', async () => {
    const pairs = [await pair(), await pair(), await pair()];
    try {
      const [a, b, c] = [frame('a'), frame('b'), frame('c')];
      const writers = pairs.map((p) => new FrameWriter(p.server));
      writers[0].write(a);
      writers[0].write(b);
      writers[1].write(a);
      writers[1].write(b);
      writers[2].write(a);
      writers[2].write(c);
      await until(() => pairs.every((p) => p.received.length === 2));
      expect(pairs.map((p) => p.received)).toEqual([['a', 'b'], ['a', 'b'], ['a', 'c']]);
      expect(pairs.map((p) => p.chunks())).toEqual([1, 1, 1]);
    } finally {
      for (const p of pairs) await p.close();
    }
  });

  it('drops held frames once the socket is no longer open (nothing follows a close frame)', async () => {
    const p = await pair();
    try {
      // The client reads nothing until the held frame's time has passed, so the server's socket
      // is still writable (closing, waiting for the client's close frame) when the flush comes.
      const raw = (p.client as unknown as { _socket: Socket })._socket;
      const bytes: Buffer[] = [];
      raw.on('data', (chunk: Buffer) => bytes.push(chunk));
      raw.pause();
      const writer = new FrameWriter(p.server, 30);
      writer.write(frame('late'));
      p.server.close(1000, 'bye');
      await new Promise((resolve) => setTimeout(resolve, 100));
      raw.resume();
      await once(p.client, 'close');
      const wire = Buffer.concat(bytes);
      expect(wire[0]).toBe(0x88); // the close frame, and nothing else
      expect(wire.includes(Buffer.from('late'))).toBe(false);
      expect(p.received).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
