import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a service (PostgreSQL, Redis) that the test can cut — every open
 * connection reset, new ones refused — and restore on the same port.
 */
export class TcpProxy {
  readonly #sockets = new Set<Socket>();
  readonly #pairs = new Set<[Socket, Socket]>();
  #frozen = false;
  #server: Server | undefined;
  port = 0;
  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.#sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.#sockets.delete(a);
          b.destroy();
        });
      }
      const pair: [Socket, Socket] = [client, upstream];
      this.#pairs.add(pair);
      client.once('close', () => this.#pairs.delete(pair));
      if (!this.#frozen) {
        client.pipe(upstream);
        upstream.pipe(client);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  get cut(): boolean {
    return this.#server === undefined;
  }

  /** Refuses new connections and resets the open ones (the service looks unreachable). */
  async cutOff(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops forwarding while keeping every connection open: a network that silently drops everything. */
  freeze(): void {
    this.#frozen = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  thaw(): void {
    this.#frozen = false;
    for (const [client, upstream] of this.#pairs) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }

  async restore(): Promise<void> {
    if (!this.#server) await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cutOff();
  }
}
