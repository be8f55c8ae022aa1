import { describe, expect, it } from 'vitest';
import { SharedFrame } from './frames.js';

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
