import { CloseCode } from '@herald/protocol';
import type { Broker, BrokerHandler } from '../broker/index.js';
import type { UserStore } from '../store/index.js';
import type { AuthService } from './service.js';

const CONTROL_CHANNEL = 'herald:control';

/** Tells every node to close a user's sockets with 4001 and `reason` (also used by the CLI). */
export function publishUserRevoked(broker: Broker, userId: number, reason: string): Promise<void> {
  return broker.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'user_revoked', user_id: userId, reason }));
}

/** The open connections of a user, as revalidation needs them. */
export interface UserConnections {
  connectionsOf(userId: number): Iterable<{ isAdmin: boolean; userIsAdmin: boolean; close(code: number, reason: string): void; demote(): void }>;
}

/**
 * Re-checks a user's open connections on every node after the user changed: a deleted
 * user's sockets close with 4001, a revoked admin's admin sockets with 4003 and their user
 * sockets lose admin scope at once; a revoked user's sockets close with 4001. Changes travel
 * on the broker's control channel, so every node drops its cached copy of the user too.
 */
export class UserRevalidation {
  readonly #broker: Broker;
  readonly #auth: AuthService;
  readonly #users: UserStore;
  readonly #connections: UserConnections;
  readonly #onControl: BrokerHandler = (payload) => void this.#revalidate(payload);

  constructor(broker: Broker, auth: AuthService, users: UserStore, connections: UserConnections) {
    this.#broker = broker;
    this.#auth = auth;
    this.#users = users;
    this.#connections = connections;
  }

  start(): Promise<void> {
    return this.#broker.subscribe(CONTROL_CHANNEL, this.#onControl);
  }

  async stop(): Promise<void> {
    await this.#broker.unsubscribe(CONTROL_CHANNEL, this.#onControl).catch(() => undefined);
  }

  /** Tells every node that a user's admin flag changed or the user was deleted. */
  userChanged(userId: number): Promise<void> {
    return this.#broker.publish(CONTROL_CHANNEL, JSON.stringify({ type: 'user_changed', user_id: userId }));
  }

  /** Closes a user's sockets on every node with 4001 and `reason` (disconnect API, password change). */
  userRevoked(userId: number, reason: string): Promise<void> {
    return publishUserRevoked(this.#broker, userId, reason);
  }

  async #revalidate(payload: string): Promise<void> {
    let message: { type?: unknown; user_id?: unknown; reason?: unknown };
    try {
      message = JSON.parse(payload) as typeof message;
    } catch {
      return;
    }
    const userId = Number(message.user_id);
    if (!Number.isSafeInteger(userId)) return;
    this.#auth.forget(userId);
    const connections = [...this.#connections.connectionsOf(userId)];
    if (connections.length === 0) return;
    if (message.type === 'user_revoked') {
      const reason = typeof message.reason === 'string' ? message.reason.slice(0, 100) : 'revoked';
      for (const conn of connections) conn.close(CloseCode.UNAUTHORIZED, reason);
      return;
    }
    const user = await this.#users.findById(userId);
    for (const conn of connections) {
      if (!user) conn.close(CloseCode.UNAUTHORIZED, 'user deleted');
      else if (user.source === 'platform') continue; // their admin rights come from their tokens
      else if (conn.isAdmin && !user.is_admin) conn.close(CloseCode.FORBIDDEN, 'admin rights revoked');
      else if (!user.is_admin) conn.demote();
    }
  }
}
