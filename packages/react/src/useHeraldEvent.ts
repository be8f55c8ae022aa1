import { useEffect, useRef } from 'react';
import type { CustomEventMessage } from '@herald/protocol';
import type { HeraldClient } from '@herald/client';
import { useOptionalWebSocketContext } from './WebSocketContext.js';

/**
 * Calls `handler` for every custom event of `type` (`'order.shipped'`) that a producer
 * publishes to this user, typed by its `data`. Uses the nearest `<WebSocketProvider>`'s
 * connection, or `client` when given (e.g. `useWebSocket().client`). The handler may change
 * between renders without resubscribing.
 *
 * @example
 * useHeraldEvent<{ order: number }>('order.shipped', (e) => message.info(`order ${e.data.order} shipped`));
 */
export function useHeraldEvent<D extends Record<string, unknown> = Record<string, unknown>>(
  type: string,
  handler: (event: CustomEventMessage<D>) => void,
  client?: HeraldClient | null,
): void {
  const latest = useRef(handler);
  latest.current = handler;
  const context = useOptionalWebSocketContext();
  const source = client === undefined ? (context?.client ?? null) : client;
  useEffect(() => source?.onEvent<D>(type, (event) => latest.current(event)), [source, type]);
}
