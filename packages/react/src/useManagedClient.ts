import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import {
  tokenSaysAdmin,
  type ClientSnapshot,
  type HeraldClient,
  type HeraldClientError,
  type HeraldClientOptions,
  type NotificationFeed,
  type TokenProvider,
} from '@herald/client';
import { NotificationFeed as Feed } from '@herald/client';
import { useRegistry } from './registry-context.js';

/** Client options a React caller may pass; token, admin flag and callbacks are handled by the bindings. */
export type ConnectionOptions = Omit<HeraldClientOptions, 'getToken' | 'isAdmin' | 'onError' | 'onResync'> & {
  /** A fixed token; ignored when `getToken` is given. May change between renders without reconnecting. */
  token?: string | null;
  /**
   * Token provider, called before every connect (`forceRefresh` after the server refused a
   * token). Without `getToken` and `token`, the token is `localStorage.getItem('token')`.
   */
  getToken?: TokenProvider;
  onResync?: HeraldClientOptions['onResync'];
  /** Who connects, when one page connects as several users (see `ConnectionRegistry`). */
  identity?: string;
  /** Share the connection with the browser's other tabs (default `true` where supported). */
  crossTab?: boolean;
};

export interface ManagedClient {
  client: HeraldClient;
  feed: NotificationFeed;
}

const CLOSED: ClientSnapshot = { state: 'closed', unreadCount: 0, lastMessage: null, error: null };
const noSubscribe = (): (() => void) => () => {};
const closedSnapshot = (): ClientSnapshot => CLOSED;

/**
 * Acquires the shared connection for these options from the registry (or adopts
 * `external`) in an effect, never during render, and releases it on unmount: every hook and
 * provider with the same server, endpoint and identity uses one client, closed when the
 * last one unmounts. Options that shape the connection (URL, admin flag, identity) acquire
 * another one when they change; token and callbacks are read through refs. `attach` adds
 * the caller's listeners before the client connects and returns their removal.
 */
export function useManagedClient(
  external: HeraldClient | undefined,
  isAdmin: boolean | 'auto',
  options: ConnectionOptions,
  onError: (error: HeraldClientError) => void,
  attach: (client: HeraldClient) => () => void,
  feedLimit = 50,
): ManagedClient | null {
  const latest = useRef({ options, onError, attach });
  latest.current = { options, onError, attach };
  const registry = useRegistry();
  const [managed, setManaged] = useState<ManagedClient | null>(null);
  const { url, endpoint, httpUrl, tokenTransport, autoConnect = true, identity, crossTab } = options;
  const hasTokenSource = options.getToken !== undefined || options.token !== undefined;
  // With a fixed token the endpoint rule can be applied now, so the key matches explicit callers.
  const admin = isAdmin === 'auto' && options.getToken === undefined && typeof options.token === 'string' ? tokenSaysAdmin(options.token) : isAdmin;

  useEffect(() => {
    let client: HeraldClient;
    let feed: NotificationFeed;
    let release: () => void;
    if (external) {
      client = external;
      feed = new Feed(external, { limit: feedLimit });
      release = () => feed.dispose();
    } else {
      const opts = latest.current.options;
      const getToken: TokenProvider | undefined = hasTokenSource
        ? (request) => {
            const { getToken: provider, token } = latest.current.options;
            return provider ? provider(request) : token;
          }
        : undefined; // the client's default: localStorage 'token'
      const lease = registry.acquire({
        ...opts,
        url,
        endpoint,
        httpUrl,
        isAdmin: admin,
        identity,
        crossTab,
        tokenTransport,
        feedLimit,
        getToken,
        fetch: (target, init) => {
          const injected = latest.current.options.fetch;
          return injected ? injected(target, init) : globalThis.fetch(target, init);
        },
        onResync: (event) => latest.current.options.onResync?.(event),
      });
      ({ client, feed } = lease);
      release = lease.release;
    }
    const offError = client.on('failure', (error) => latest.current.onError(error));
    // Listeners go on before connecting so not even a fast first message is missed.
    const detach = latest.current.attach(client);
    setManaged({ client, feed });
    if (!external && autoConnect) client.connect();
    return () => {
      detach();
      offError();
      release();
      setManaged(null);
    };
  }, [registry, external, admin, url, endpoint, httpUrl, tokenTransport, autoConnect, identity, crossTab, hasTokenSource, feedLimit]);

  return managed;
}

/** Reads a client's snapshot (state, unread count, last message, error) through `useSyncExternalStore`. */
export function useClientSnapshot(client: HeraldClient | null | undefined): ClientSnapshot {
  return useSyncExternalStore(
    client ? client.subscribe : noSubscribe,
    client ? client.getSnapshot : closedSnapshot,
    client ? client.getSnapshot : closedSnapshot,
  );
}
