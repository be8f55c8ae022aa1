import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, errorMessage, streamsFor, type ConnectionStats } from '@herald/protocol';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { TokenError, sessionDeadlineMs, type AuthService } from '../auth/index.js';
import { readAllRefusal, replayCost, type WorkBudgets } from '../budget/index.js';
import type { Config } from '../config.js';
import { originCheck, type OriginCheck } from '../http/origin.js';
import type { Metrics } from '../metrics.js';
import type { NotificationService } from '../notifications/index.js';
import type { Store } from '../store/index.js';
import { Connection, type ConnectionHost } from './connection.js';
import { explainRefusedFrames } from './frames.js';
import type { ConnectionManager } from './manager.js';

export const WS_USER_PATH = '/api/v1/ws';
export const WS_ADMIN_PATH = '/api/v1/ws/admin';
const MAX_URL_LENGTH = 8192;
const MAX_TOKEN_LENGTH = 4096;
/** How long a refused upgrade may take to answer its close frame before its socket is cut. */
const REFUSAL_LINGER_MS = 1000;

export type Endpoint = 'user' | 'admin';

/** Why a session was refused, as a close code (SSE sends it as `event: close`). */
export interface Refusal {
  code: number;
  reason: string;
}

/** Who may open a session, and from where. */
export interface Admission {
  endpoint: Endpoint;
  userId: number;
  /** The id the `connected` message names (see `Identities.wireId`). */
  wireId: string;
  username: string;
  userIsAdmin: boolean;
  expiresAt: number;
  /** The raw `since` parameter, checked by the delivery rules (`delivery/opening.ts`). */
  since: string | null;
}

export interface GatewayDeps {
  config: Config;
  auth: AuthService;
  store: Store;
  manager: ConnectionManager;
  notifications: NotificationService;
  metrics: Metrics;
  log: Logger;
  nodeId: string;
  budgets: WorkBudgets;
  stats(): Promise<ConnectionStats>;
  /** A user's connections over the cluster (the per-user limit counts them all). */
  connectionsOf(userId: number): Promise<number>;
}

/** Extracts the token: `?token=` (specification) or `Sec-WebSocket-Protocol: bearer, <token>`. */
export function tokenFrom(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['sec-websocket-protocol'];
  if (typeof header === 'string') {
    const parts = header.split(',').map((part) => part.trim());
    if (parts[0] === 'bearer' && parts[1]) return parts[1].slice(0, MAX_TOKEN_LENGTH + 1);
  }
  return query.get('token')?.slice(0, MAX_TOKEN_LENGTH + 1) ?? undefined;
}

function writeHttpError(socket: Duplex, status: number, text: string, message: string): void {
  const body = JSON.stringify({ error: status === 404 ? ErrorCode.NOT_FOUND : ErrorCode.UNAVAILABLE, message, statusCode: status });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function onSocketError(this: Duplex): void {
  this.destroy();
}

function terminate(ws: WebSocket): void {
  ws.terminate();
}

function onWsError(this: WebSocket): void {
  /* every socket gets a listener: an error on one socket must never take the process down */
}

/**
 * Handles WebSocket upgrades: checks the Origin, authenticates before the handshake
 * completes, enforces connection limits, and reports refusals as close codes (so a
 * browser can tell them from network failures).
 */
export class WebSocketGateway implements ConnectionHost {
  readonly #wss: WebSocketServer;
  readonly #deps: GatewayDeps;
  readonly #perIp = new Map<string, number>();
  readonly #originAllowed: OriginCheck;
  #accepting = true;

  constructor(deps: GatewayDeps) {
    this.#deps = deps;
    this.#originAllowed = originCheck(deps.config.corsOrigins, deps.config.trustProxy, deps.log);
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: deps.config.maxPayloadBytes,
      handleProtocols: (protocols) => (protocols.has('bearer') ? 'bearer' : false),
    });
  }

  get replay() {
    return this.#deps.store.streams;
  }

  stop(): void {
    this.#accepting = false;
  }

  /** The `upgrade` listener of the HTTP server. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', onSocketError);
    const rawUrl = req.url ?? '';
    if (rawUrl.length > MAX_URL_LENGTH) return writeHttpError(socket, 414, 'URI Too Long', 'URL too long');
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    const endpoint: Endpoint | undefined = path === WS_USER_PATH ? 'user' : path === WS_ADMIN_PATH ? 'admin' : undefined;
    if (!endpoint) return writeHttpError(socket, 404, 'Not Found', `no WebSocket endpoint at ${path.slice(0, 100)}`);
    if (!this.#accepting) return writeHttpError(socket, 503, 'Service Unavailable', 'server is shutting down');

    const ip = this.clientIp(req);
    void this.admit(req, endpoint, query, ip, tokenFrom(req, query)).then((result) => {
      // Only an admitted upgrade holds one of its address's slots: refused ones (bad token,
      // origin, limits) are counted apart, so they cannot lock out a valid user behind that address.
      if ('endpoint' in result) {
        if (socket.destroyed) return this.#release(ip);
        socket.once('close', this.releaserFor(ip));
      }
      if (socket.destroyed) return;
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', onWsError);
        explainRefusedFrames(ws, this.#deps.config.maxPayloadBytes);
        if ('reason' in result) return this.#refuse(ws, result);
        void this.open(ws, result);
      });
    });
  }

  /** Whether new sessions are accepted (false once the node shuts down). */
  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * The release of an admitted session of another transport (SSE): `admit` counted it against
   * its address; call the returned function (idempotent) when the stream ends.
   */
  releaserFor(ip: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(ip);
    };
  }

  /** Closes with the refusal's code; a peer that does not answer the close frame is cut after REFUSAL_LINGER_MS. */
  #refuse(ws: WebSocket, refusal: Refusal): void {
    this.#deps.metrics.closes.inc({ code: refusal.code });
    ws.close(refusal.code, refusal.reason);
    setTimeout(terminate, REFUSAL_LINGER_MS, ws).unref();
  }

  #release(ip: string): void {
    const count = (this.#perIp.get(ip) ?? 1) - 1;
    if (count <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, count);
  }

  /** The client's address (the first `X-Forwarded-For` hop behind trusted proxies). */
  clientIp(req: IncomingMessage): string {
    if (this.#deps.config.trustProxy) {
      const forwarded = req.headers['x-forwarded-for'];
      const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'unknown';
  }

  /** The checks of every transport: Origin, connections per address and user, token, admin rights. */
  async admit(req: IncomingMessage, endpoint: Endpoint, query: URLSearchParams, ip: string, token: string | undefined): Promise<Admission | Refusal> {
    const { config, auth, metrics } = this.#deps;
    if (!this.#originAllowed(req)) {
      metrics.authFailures.inc({ reason: 'origin' });
      return { code: CloseCode.FORBIDDEN, reason: 'origin not allowed' };
    }
    let principal;
    try {
      principal = await auth.authenticate(token);
    } catch (error) {
      const reason = error instanceof TokenError ? error.reason : 'invalid';
      metrics.authFailures.inc({ reason });
      if (!(error instanceof TokenError)) this.#deps.log.warn({ err: error }, 'authentication failed unexpectedly');
      return { code: CloseCode.UNAUTHORIZED, reason: error instanceof TokenError ? error.message : 'token invalid' };
    }
    const { user, claims } = principal;
    if ((this.#perIp.get(ip) ?? 0) >= config.maxConnectionsPerIp) {
      return { code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too many connections from this address' };
    }
    if (endpoint === 'admin' && !user.is_admin) {
      metrics.authFailures.inc({ reason: 'not_admin' });
      return { code: CloseCode.FORBIDDEN, reason: 'admin only' };
    }
    if ((await this.#deps.connectionsOf(user.id)) >= config.maxConnectionsPerUser) {
      return { code: CloseCode.TOO_MANY_CONNECTIONS, reason: 'too many connections for this user' };
    }
    const wireId = auth.identities.wireId(user);
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1); // released when the socket closes (handleUpgrade, or SSE's releaserFor)
    return { endpoint, userId: user.id, wireId, username: user.username, userIsAdmin: user.is_admin, expiresAt: sessionDeadlineMs(claims.exp), since: query.get('since') };
  }

  /** Opens the session of an admitted client on its socket (a WebSocket, or the SSE adapter). */
  async open(ws: WebSocket, admission: Admission, transport: 'ws' | 'sse' = 'ws'): Promise<Connection> {
    const { config, manager, notifications, store, nodeId } = this.#deps;
    const isAdmin = admission.endpoint === 'admin';
    const streams = streamsFor(admission.userId, isAdmin);
    const conn = new Connection(
      ws,
      { userId: admission.userId, isAdmin, userIsAdmin: admission.userIsAdmin, streams, expiresAt: admission.expiresAt, transport },
      this,
      { sendBufferBytes: config.sendBufferBytes, maxMessagesPerSecond: config.maxMessagesPerSecond, writeDelayMs: config.writeDelayMs },
    );
    try {
      await manager.connect(conn);
      if (conn.state === 'closed') {
        manager.disconnect(conn);
        return conn;
      }
      const inbox = streamsFor(admission.userId, admission.userIsAdmin);
      const heads = await store.streams.heads([...new Set([...streams, ...inbox])]);
      const resume = this.#deps.budgets.resume.spend(admission.userId, replayCost(streams, admission.since, heads));
      if (!resume.ok) {
        conn.close(CloseCode.RESUME_LIMITED, `too much replay for this user; reconnect_after_ms=${resume.retryAfterMs}`);
        return conn;
      }
      const [unread, stats] = await Promise.all([store.inbox.unreadAt(admission.userId, inbox, heads), this.#deps.stats()]);
      await conn.start({
        since: admission.since,
        heads,
        greeting: { userId: admission.wireId, username: admission.username, admin: isAdmin, stats, unread, nodeId },
        snapshot: notifications.progress.snapshot(admission.userId, isAdmin),
      });
    } catch (error) {
      this.#deps.log.error({ err: error }, 'could not open connection');
      conn.close(CloseCode.INTERNAL_ERROR, 'server error; reconnect');
    }
    return conn;
  }

  // ---- ConnectionHost ----

  stats(): Promise<ConnectionStats> {
    return this.#deps.stats();
  }

  async markRead(conn: Connection, ids: number[] | 'all'): Promise<void> {
    const spent = ids === 'all' ? this.#deps.budgets.readAll.spend(conn.userId, 1) : undefined;
    if (spent && !spent.ok) return conn.reply(errorMessage(ErrorCode.RATE_LIMITED, readAllRefusal(spent.retryAfterMs)));
    try {
      await this.#deps.notifications.markRead(conn.userId, conn.userIsAdmin, ids);
    } catch (error) {
      this.#deps.log.warn({ err: error }, 'mark_read over WebSocket failed');
      conn.reply(errorMessage(ErrorCode.UNAVAILABLE, 'could not mark notifications read; try again'));
    }
  }

  /**
   * In-band refresh: the token must verify, name the same user and grant no more than the
   * connection has. A lower privilege applies at once (an admin socket closes with 4003, a
   * user socket loses admin scope); a refused token leaves the session as it was.
   */
  async reauthenticate(conn: Connection, token: string): Promise<void> {
    let principal;
    try {
      principal = await this.#deps.auth.authenticate(token);
    } catch (error) {
      this.#deps.metrics.authFailures.inc({ reason: error instanceof TokenError ? error.reason : 'invalid' });
      conn.reply(errorMessage(ErrorCode.UNAUTHORIZED, error instanceof TokenError ? error.message : 'token invalid'));
      return;
    }
    if (principal.user.id !== conn.userId) {
      conn.reply(errorMessage(ErrorCode.FORBIDDEN, 'token belongs to another user; reconnect with it instead'));
      return;
    }
    if (principal.user.is_admin && !conn.userIsAdmin) {
      conn.reply(errorMessage(ErrorCode.FORBIDDEN, 'token grants more rights than this connection has; reconnect to use them'));
      return;
    }
    if (!principal.user.is_admin && conn.isAdmin) {
      conn.close(CloseCode.FORBIDDEN, 'admin rights revoked');
      return;
    }
    if (!principal.user.is_admin) conn.demote();
    conn.extend(sessionDeadlineMs(principal.claims.exp));
  }

  onSent(type: string): void {
    this.#deps.metrics.countSent(type);
  }

  onClosed(conn: Connection, code: number): void {
    this.#deps.metrics.closes.inc({ code });
    this.#deps.manager.disconnect(conn);
  }

  close(): void {
    this.#wss.close();
  }
}
