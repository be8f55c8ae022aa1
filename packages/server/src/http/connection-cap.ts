import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '@herald/protocol';

const REFUSAL_BODY = JSON.stringify({ error: ErrorCode.RATE_LIMITED, message: 'too many connections from this address', statusCode: 429 });
const REFUSAL =
  'HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n' +
  `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n\r\n${REFUSAL_BODY}`;

/**
 * Caps the simultaneous HTTP connections of one client address (the TCP peer), long-lived
 * responses included. A connection over the cap is answered 429 and closed before its request
 * is read. A socket that upgrades to a WebSocket leaves the count at the upgrade: WebSockets
 * have their own per-address budget (`WS_MAX_CONNECTIONS_PER_IP`, in `ws/gateway.ts`).
 */
export class ConnectionCap {
  readonly #max: number;
  readonly #perAddress = new Map<string, number>();
  readonly #counted = new WeakMap<Socket, string>();
  /** Connections refused since start (for logs and tests). */
  refused = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Starts counting `server`'s connections (`max` 0: no cap). */
  attach(server: Server): void {
    if (this.#max <= 0) return;
    server.prependListener('connection', (socket: Socket) => this.#admit(socket));
    server.prependListener('upgrade', (_req, socket: Socket) => this.#release(socket));
  }

  /** Open connections counted for `address`. */
  countOf(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  #admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.countOf(address);
    if (count >= this.#max) {
      this.refused += 1;
      socket.on('error', destroy);
      socket.end(REFUSAL, () => socket.destroy());
      return;
    }
    this.#perAddress.set(address, count + 1);
    this.#counted.set(socket, address);
    socket.once('close', () => this.#release(socket));
  }

  #release(socket: Socket): void {
    const address = this.#counted.get(socket);
    if (address === undefined) return;
    this.#counted.delete(socket);
    const count = this.countOf(address) - 1;
    if (count <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }
}

function destroy(this: Socket): void {
  this.destroy();
}
