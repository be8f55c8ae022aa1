import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import {
  HeraldClient,
  NotificationFeed,
  type ClientSnapshot,
  type HeraldClientError,
  type HeraldClientOptions,
  type TokenProvider,
} from '@herald/client';

/** Client options a React caller may pass; token, admin flag and callbacks are handled by the bindings. */
export type ConnectionOptions = Omit<HeraldClientOptions, 'getToken' | 'isAdmin' | 'onError' | 'onResync'> & {
  /** A fixed token; ignored when `getToken` is given. May change between renders without reconnecting. */
  token?: string | null;
  /** Token provider, called before every connect (`forceRefresh` after the server refused a token). */
  getToken?: TokenProvider;
  onResync?: HeraldClientOptions['onResync'];
};

export interface ManagedClient {
  client: HeraldClient;
  feed: NotificationFeed;
}

const CLOSED: ClientSnapshot = { state: 'closed', unreadCount: 0, lastMessage: null };
const noSubscribe = (): (() => void) => () => {};
const closedSnapshot = (): ClientSnapshot => CLOSED;

/**
 * Creates a client (or adopts `external`) in an effect, never during render, so StrictMode's
 * double effects open and close a socket cleanly and no socket outlives its component.
 * Options that shape the connection (URL, admin flag, transport, timings) recreate the
 * client when they change; token, callbacks and `fetch` are read through refs, the
 * environment (`WebSocket`, `timers`, `onlineSource`) once per client. `attach` adds the
 * caller's listeners before the client connects and returns their removal.
 */
export function useManagedClient(
  external: HeraldClient | undefined,
  isAdmin: boolean,
  options: ConnectionOptions,
  onError: (error: HeraldClientError) => void,
  attach: (client: HeraldClient) => () => void,
  feedLimit = 50,
): ManagedClient | null {
  const latest = useRef({ options, onError, attach });
  latest.current = { options, onError, attach };
  const [managed, setManaged] = useState<ManagedClient | null>(null);

  const {
    url,
    endpoint,
    httpUrl,
    tokenTransport,
    autoConnect = true,
    autoReconnect,
    reconnectInterval,
    maxReconnectInterval,
    maxReconnectAttempts,
    heartbeatInterval,
    heartbeatTimeout,
    connectTimeout,
  } = options;

  useEffect(() => {
    const client =
      external ??
      new HeraldClient({
        url,
        endpoint,
        httpUrl,
        isAdmin,
        tokenTransport,
        autoConnect: false,
        autoReconnect,
        reconnectInterval,
        maxReconnectInterval,
        maxReconnectAttempts,
        heartbeatInterval,
        heartbeatTimeout,
        connectTimeout,
        // The environment is read once per client: inline objects must not reconnect on every render.
        WebSocket: latest.current.options.WebSocket,
        timers: latest.current.options.timers,
        onlineSource: latest.current.options.onlineSource,
        fetch: (url, init) => {
          const injected = latest.current.options.fetch;
          return injected ? injected(url, init) : globalThis.fetch(url, init);
        },
        positions: latest.current.options.positions,
        getToken: (request) => {
          const { getToken, token } = latest.current.options;
          return getToken ? getToken(request) : token;
        },
        onResync: (event) => latest.current.options.onResync?.(event),
        onError: (error) => latest.current.onError(error),
      });
    const offError = external ? external.on('failure', (error) => latest.current.onError(error)) : undefined;
    const feed = new NotificationFeed(client, { limit: feedLimit });
    // Listeners go on before connecting so not even a fast first message is missed.
    const detach = latest.current.attach(client);
    setManaged({ client, feed });
    if (!external && autoConnect) client.connect();
    return () => {
      detach();
      offError?.();
      feed.dispose();
      if (!external) client.close();
      setManaged(null);
    };
  }, [
    external,
    isAdmin,
    url,
    endpoint,
    httpUrl,
    tokenTransport,
    autoConnect,
    autoReconnect,
    reconnectInterval,
    maxReconnectInterval,
    maxReconnectAttempts,
    heartbeatInterval,
    heartbeatTimeout,
    connectTimeout,
    feedLimit,
  ]);

  return managed;
}

/** Reads a client's snapshot (state, unread count, last message) through `useSyncExternalStore`. */
export function useClientSnapshot(client: HeraldClient | null | undefined): ClientSnapshot {
  return useSyncExternalStore(
    client ? client.subscribe : noSubscribe,
    client ? client.getSnapshot : closedSnapshot,
    client ? client.getSnapshot : closedSnapshot,
  );
}
