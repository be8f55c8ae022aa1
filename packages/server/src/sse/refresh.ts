import { randomUUID } from 'node:crypto';
import type { Broker } from '../broker/index.js';
import type { Connection } from '../ws/connection.js';
import type { WebSocketGateway } from '../ws/gateway.js';

/** The broker channel a refresh travels on: the stream may be held by another node than the POST reached. */
const REFRESH_CHANNEL = 'herald:sse-refresh';
/** Response header naming an SSE session, for `POST /api/v1/sse/refresh`. */
export const SSE_SESSION_HEADER = 'herald-session';
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The SSE half of the in-band refresh: a stream cannot carry the `auth` command, so its client
 * posts the new token with the session id the stream's response named; whichever node holds
 * the session verifies it exactly as the WebSocket command (`token_refreshed` or an `error`
 * arrives on the stream).
 */
export class SseSessions {
  readonly #local = new Map<string, Connection>();
  readonly #broker: Broker;
  readonly #gateway: WebSocketGateway;

  constructor(broker: Broker, gateway: WebSocketGateway) {
    this.#broker = broker;
    this.#gateway = gateway;
  }

  start(): Promise<void> {
    return this.#broker.subscribe(REFRESH_CHANNEL, this.#onRefresh);
  }

  stop(): Promise<void> {
    return this.#broker.unsubscribe(REFRESH_CHANNEL, this.#onRefresh);
  }

  /** A new session id for a stream; `attach` binds it once the session is open. */
  newId(): string {
    return randomUUID();
  }

  attach(id: string, conn: Connection): () => void {
    this.#local.set(id, conn);
    return () => void this.#local.delete(id);
  }

  /** Hands a new token to the node holding the session (this one included). */
  refresh(session: string, token: string): Promise<void> {
    return this.#broker.publish(REFRESH_CHANNEL, JSON.stringify({ session, token }));
  }

  readonly #onRefresh = (payload: string): void => {
    let message: { session?: unknown; token?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const conn = typeof message.session === 'string' ? this.#local.get(message.session) : undefined;
    if (conn && typeof message.token === 'string') void this.#gateway.reauthenticate(conn, message.token);
  };
}
