import { CloseCode } from '@herald/protocol';
import type { ConnectionManager, WebSocketGateway } from './ws/index.js';

/** The longest a node waits for its clients to leave before it cuts the rest. */
const MAX_DRAIN_MS = 5_000;

/** A node's way down: it stops accepting sockets, asks its clients to go elsewhere, then cuts the rest. */
export class Shutdown {
  #active = false;

  get active(): boolean {
    return this.#active;
  }

  async drain(gateway: WebSocketGateway, manager: ConnectionManager, graceMs: number): Promise<void> {
    this.#active = true;
    gateway.stop();
    manager.stopHeartbeat();
    // Spread reconnects over a few seconds so the clients of a node do not stampede the others.
    manager.closeAll(CloseCode.GOING_AWAY, () => `server shutting down; reconnect_after_ms=${500 + Math.floor(Math.random() * 4500)}`);
    const deadline = Date.now() + Math.min(graceMs, MAX_DRAIN_MS);
    while (manager.getConnectionCount().total_connections > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    for (const conn of manager.all()) conn.terminate();
  }
}
