import { useCallback, useRef } from 'react';
import type {
  ConnectedMessage,
  CustomEventMessage,
  ServerMessage,
  SystemMessage,
  TranscodeCompleteMessage,
  TranscodeFailedMessage,
  TranscodeProgressMessage,
} from '@herald/protocol';
import type { ConnectionState, DisconnectEvent, HeraldClient, HeraldClientError } from '@herald/client';
import { useClientSnapshot, useManagedClient, type ConnectionOptions } from './useManagedClient.js';

/** Message callbacks, as in the specification's `useWebSocket` example. They may change between renders. */
export interface WebSocketCallbacks {
  onMessage?: (message: ServerMessage) => void;
  onTranscodeProgress?: (message: TranscodeProgressMessage) => void;
  onTranscodeComplete?: (message: TranscodeCompleteMessage) => void;
  onTranscodeFailed?: (message: TranscodeFailedMessage) => void;
  onSystemMessage?: (message: SystemMessage) => void;
  /** Every custom event (a type a producer made up, with its `data`); see also `useHeraldEvent`. */
  onEvent?: (event: CustomEventMessage) => void;
  /** The server confirmed the connection (also after every reconnect). */
  onConnect?: (message: ConnectedMessage) => void;
  onDisconnect?: (event: DisconnectEvent) => void;
  onError?: (error: HeraldClientError) => void;
}

export type UseWebSocketOptions = ConnectionOptions & WebSocketCallbacks;

export interface UseWebSocketResult {
  /** `true` while the server has confirmed the connection. */
  isConnected: boolean;
  state: ConnectionState;
  /** The last message received (duplicates dropped), or `null`. */
  lastMessage: ServerMessage | null;
  /** Sends `'ping'`, `'get_stats'` or a JSON command; `false` when not connected. */
  sendMessage: (message: string | object) => boolean;
  unreadCount: number;
  /** Opens the connection (when created with `autoConnect: false` or after it closed). */
  connect: () => void;
  /** Closes the connection until `connect()`. */
  disconnect: () => void;
  /**
   * Why the connection stopped for good (no token, token refused with 4001, access refused
   * with 4003, reconnects exhausted), or `null`. Also logged once to the console.
   */
  error: HeraldClientError | null;
  /** The underlying client, `null` before the first effect ran. */
  client: HeraldClient | null;
}

/**
 * A Herald connection for the calling component. Every hook and provider with the same
 * server, endpoint and identity shares one connection (one socket per browser, across tabs,
 * where Web Locks and BroadcastChannel exist), released when the last one unmounts.
 * Options carry the specification's names and defaults (`autoConnect`, `autoReconnect`,
 * `reconnectInterval`, `maxReconnectAttempts`, `heartbeatInterval`); `url` defaults to the
 * page's origin (`ws(s)://host`); the token comes from `token`, `getToken`, or else
 * `localStorage.getItem('token')` as in the specification. `disconnect()` closes the shared
 * connection for every user of it.
 *
 * @example
 * const { isConnected, lastMessage, sendMessage } = useWebSocket(true, {
 *   onTranscodeProgress: (m) => console.log(`视频${m.video_id}转码进度: ${m.progress}%`),
 *   onTranscodeComplete: (m) => notification.success({ message: `转码完成: ${m.title}` }),
 * });
 */
export function useWebSocket(isAdmin = false, options: UseWebSocketOptions = {}): UseWebSocketResult {
  const callbacks = useRef<WebSocketCallbacks>(options);
  callbacks.current = options;
  const managed = useManagedClient(undefined, isAdmin, options, (error) => callbacks.current.onError?.(error), attachCallbacks);
  const client = managed?.client ?? null;
  const snapshot = useClientSnapshot(client);

  function attachCallbacks(c: HeraldClient): () => void {
    const offs = [
      c.on('message', (m) => callbacks.current.onMessage?.(m)),
      c.on('transcode_progress', (m) => callbacks.current.onTranscodeProgress?.(m)),
      c.on('transcode_complete', (m) => callbacks.current.onTranscodeComplete?.(m)),
      c.on('transcode_failed', (m) => callbacks.current.onTranscodeFailed?.(m)),
      c.on('system_message', (m) => callbacks.current.onSystemMessage?.(m)),
      c.on('event', (e) => callbacks.current.onEvent?.(e)),
      c.on('connected', (m) => callbacks.current.onConnect?.(m)),
      c.on('disconnect', (e) => callbacks.current.onDisconnect?.(e)),
    ];
    return () => offs.forEach((off) => off());
  }

  const sendMessage = useCallback((message: string | object) => client?.send(message) ?? false, [client]);
  const connect = useCallback(() => client?.connect(), [client]);
  const disconnect = useCallback(() => client?.close(), [client]);

  return {
    isConnected: snapshot.state === 'open',
    state: snapshot.state,
    lastMessage: snapshot.lastMessage,
    sendMessage,
    unreadCount: snapshot.unreadCount,
    error: snapshot.error,
    connect,
    disconnect,
    client,
  };
}
