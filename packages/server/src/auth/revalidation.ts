import { CloseCode } from '@herald/protocol';
import type { Broker, BrokerHandler } from '../broker/index.js';
import type { UserStore } from '../store/index.js';
import type { AuthService } from './service.js';

const CONTROL_CHANNEL = 'herald:control';

/** The open connections of a user, as revalidation needs them. */
export interface UserConnections {
  connectionsOf(userId: number): Iterable<{ isAdmin: boolean; close(code: number, reason: string): void }>;
}

/**
 * Re-checks a user's open connections on every node after the user changed: a deleted
 * user's sockets close with 4001, a revoked admin's admin sockets with 4003. Changes travel
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

  async #revalidate(payload: string): Promise<void> {
    let userId: number;
    try {
      userId = Number((JSON.parse(payload) as { user_id?: unknown }).user_id);
    } catch {
      return;
    }
    this.#auth.forget(userId);
    const connections = [...this.#connections.connectionsOf(userId)];
    if (connections.length === 0) return;
    const user = await this.#users.findById(userId);
    for (const conn of connections) {
      if (!user) conn.close(CloseCode.UNAUTHORIZED, 'user deleted');
      else if (conn.isAdmin && !user.is_admin) conn.close(CloseCode.FORBIDDEN, 'admin rights revoked');
    }
  }
}
