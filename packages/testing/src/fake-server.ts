/**
 * A small Herald-speaking server for the client's and the React bindings' tests: a real
 * `ws` WebSocketServer on port 0 plus the two HTTP routes the client calls. It speaks the
 * protocol minimally; tests drive it (send messages, close with codes) explicitly.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerMessage, StreamPosition } from '@herald/protocol';

export interface TestConnection {
  socket: WebSocket;
  path: string;
  token: string | null;
  /** How the token came: `protocol` (subprotocol) or `query`. */
  tokenVia: 'protocol' | 'query' | null;
  /** The raw `since` query parameter, if any. */
  since: string | null;
  /** Text frames received from the client. */
  received: string[];
  send(message: Partial<ServerMessage> & { type: string }): void;
  close(code: number, reason?: string): void;
}

export interface TestServerOptions {
  /** Decides whether a token is accepted; default: any non-empty token not starting with `bad`. */
  acceptToken?: (token: string) => boolean;
  /** Answer `ping` with `pong` (default true). */
  answerPing?: boolean;
  /** Send `connected` right after the upgrade (default true). */
  sendConnected?: boolean;
  /** `unread_count` / `unread_positions` sent in `connected`. */
  unread?: { count: number; positions: StreamPosition };
  /** Refuse every upgrade with HTTP 503 (the client sees a failed connect, like a network error). */
  refuse?: boolean;
  /** Body of `GET /api/v1/notifications`. */
  inbox?: unknown;
  /** Body of `GET /api/v1/videos/:id/transcode-status`. */
  transcodeStatus?: (videoId: number) => unknown;
}

export class TestServer {
  readonly connections: TestConnection[] = [];
  /** Head offset per stream; advanced by every persisted message a connection sends. */
  heads: StreamPosition = { 'user:1': 0, broadcast: 0 };
  /** HTTP requests received: method, path and authorization header. */
  readonly requests: Array<{ path: string; authorization: string | undefined }> = [];
  options: TestServerOptions;
  #http: Server;
  #wss: WebSocketServer;
  #waiters: Array<(c: TestConnection) => void> = [];

  private constructor(options: TestServerOptions) {
    this.options = options;
    this.#http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.requests.push({ path: url.pathname, authorization: req.headers.authorization });
      const status = /^\/api\/v1\/videos\/(\d+)\/transcode-status$/.exec(url.pathname);
      let body: unknown;
      if (url.pathname === '/api/v1/notifications') {
        body = this.options.inbox ?? { items: [], next_cursor: null, unread_count: 0, unread_positions: {} };
      } else if (status && this.options.transcodeStatus) {
        body = this.options.transcodeStatus(Number(status[1]));
      }
      if (body === undefined) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    this.#wss = new WebSocketServer({
      server: this.#http,
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
      verifyClient: (_info, callback) => (this.options.refuse ? callback(false, 503) : callback(true)),
    });
    this.#wss.on('connection', (socket, req) => this.#onConnection(socket, req));
  }

  static async start(options: TestServerOptions = {}): Promise<TestServer> {
    const server = new TestServer(options);
    server.#http.listen(0, '127.0.0.1');
    await once(server.#http, 'listening');
    return server;
  }

  /** `ws://127.0.0.1:<port>` */
  get url(): string {
    return `ws://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  get httpUrl(): string {
    return this.url.replace(/^ws/, 'http');
  }

  /** Resolves with the `index`-th connection (0-based) once it exists. */
  connection(index: number): Promise<TestConnection> {
    const existing = this.connections[index];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => {
      const check = (): void => {
        const c = this.connections[index];
        if (c) resolve(c);
        else this.#waiters.push(check);
      };
      this.#waiters.push(check);
    });
  }

  /** Drops every open connection without a close frame (the client sees 1006). */
  dropAll(): void {
    for (const client of this.#wss.clients) client.terminate();
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #onConnection(socket: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const queryToken = url.searchParams.get('token');
    const protocols = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const protocolToken = protocols[0] === 'bearer' ? (protocols[1] ?? null) : null;
    const token = protocolToken ?? queryToken;
    const connection: TestConnection = {
      socket,
      path: url.pathname,
      token,
      tokenVia: protocolToken ? 'protocol' : queryToken ? 'query' : null,
      since: url.searchParams.get('since'),
      received: [],
      send: (message) => {
        const { stream, offset } = message as { stream?: string; offset?: number };
        if (stream !== undefined && offset !== undefined) this.heads[stream] = Math.max(this.heads[stream] ?? 0, offset);
        socket.send(JSON.stringify({ timestamp: new Date().toISOString(), ...message }));
      },
      close: (code, reason) => socket.close(code, reason),
    };
    socket.on('error', () => {});
    socket.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      connection.received.push(text);
      if (text === 'ping' && this.options.answerPing !== false) socket.send('pong');
      if (text === 'get_stats') connection.send({ type: 'stats', connection_stats: stats() });
    });
    this.connections.push(connection);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(connection);

    const accept = this.options.acceptToken ?? ((t: string) => t.length > 0 && !t.startsWith('bad'));
    if (!token || !accept(token)) {
      socket.close(4001, 'invalid token');
      return;
    }
    if (url.pathname.endsWith('/admin') && !token.startsWith('admin')) {
      socket.close(4003, 'admin only');
      return;
    }
    if (this.options.sendConnected !== false) {
      const unread = this.options.unread ?? { count: 0, positions: { ...this.heads } };
      // Like Herald: a stream stands at the asked offset, or at its head when none was asked or it is beyond the head.
      const asked = new Map((connection.since ?? '').split(',').filter(Boolean).map((p) => [p.slice(0, p.lastIndexOf('@')), Number(p.slice(p.lastIndexOf('@') + 1))]));
      const streams: StreamPosition = {};
      for (const [stream, head] of Object.entries(this.heads)) {
        const at = asked.get(stream);
        streams[stream] = at !== undefined && at <= head ? at : head;
      }
      connection.send({
        type: 'connected',
        message: 'connected',
        user_id: '1',
        connection_stats: stats(),
        node_id: 'test',
        streams,
        unread_count: unread.count,
        unread_positions: unread.positions,
      });
    }
  }
}

function stats() {
  return { total_users: 1, total_user_connections: 1, total_admin_connections: 0, total_connections: 1 };
}

/**
 * Hand-driven timers for the client's `timers` option: nothing fires until `advance`.
 * Global timers stay real, so sockets and the test server keep working.
 */
export class ManualTimers {
  #now = 0;
  #nextId = 1;
  #pending = new Map<number, { at: number; callback: () => void }>();

  setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.#nextId++;
    this.#pending.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.#pending.delete(handle as number);
  };

  /** Number of pending timers. */
  get size(): number {
    return this.#pending.size;
  }

  /** Delays of the pending timers from now, soonest first. */
  get delays(): number[] {
    return [...this.#pending.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /** Moves time forward, firing due timers in order (also ones scheduled while advancing). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#pending) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.#pending.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = end;
  }
}

/** Waits (on real time) until `check` returns a truthy value. */
export async function waitFor<T>(check: () => T, timeoutMs = 3000): Promise<NonNullable<T>> {
  const start = Date.now();
  for (;;) {
    const value = check();
    if (value) return value as NonNullable<T>;
    if (Date.now() - start > timeoutMs) throw new Error(`waitFor timed out: ${check.toString().slice(0, 120)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
