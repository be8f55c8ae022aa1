import { createContext, useCallback, useContext, useMemo, useRef, useSyncExternalStore, type ReactNode, type SyntheticEvent } from 'react';
import { isLevel, type CustomEventMessage, type Level, type SystemMessage, type TranscodeCompleteMessage, type TranscodeFailedMessage } from '@herald/protocol';
import type {
  ConnectionRegistry,
  ConnectionState,
  FeedNotification,
  FeedSnapshot,
  HeraldClient,
  HeraldClientError,
  TranscodeProgressEntry,
} from '@herald/client';
import { HeraldRegistryProvider, useRegistry } from './registry-context.js';
import { useClientSnapshot, useManagedClient, type ConnectionOptions } from './useManagedClient.js';

export interface WebSocketContextValue {
  /** The client, `null` until the provider's first effect ran. */
  client: HeraldClient | null;
  isConnected: boolean;
  state: ConnectionState;
  /** Server-truth unread count (see `HeraldClient.unreadCount`). */
  unreadCount: number;
  /**
   * Marks notifications read; without ids (or when used directly as an event handler,
   * `onClick={markAsRead}` as in the specification) marks all read.
   */
  markAsRead: (ids?: readonly number[] | SyntheticEvent) => void;
  /** Recent notifications, newest first. */
  notifications: readonly FeedNotification[];
  /** Latest transcode progress by `video_id`. */
  transcodeProgress: ReadonlyMap<number, TranscodeProgressEntry>;
  /** Why the connection stopped for good (see `UseWebSocketResult.error`), or `null`. */
  error: HeraldClientError | null;
}

/** Shows a toast; `@herald/react/antd`'s provider plugs in Ant Design's `notification`. */
export type Notifier = (level: Level, content: { message: string; description?: string }) => void;

/** Texts of the toasts; defaults are Chinese as in the specification. */
export interface ToastTexts {
  completed: (m: TranscodeCompleteMessage) => { message: string; description?: string };
  failed: (m: TranscodeFailedMessage) => { message: string; description?: string };
  system: (m: SystemMessage) => { message: string; description?: string };
}

/** The languages of the components' built-in texts; `zh` (the specification's) is the default. */
export type HeraldLocale = 'zh' | 'en';

/** The built-in toast texts per locale. */
export const toastTextsByLocale: Record<HeraldLocale, ToastTexts> = {
  zh: {
    completed: (m) => ({ message: `转码完成: ${m.title}`, description: `格式: ${m.format_type}` }),
    failed: (m) => ({ message: `转码失败: ${m.title}`, description: m.error }),
    system: (m) => ({ message: '系统消息', description: m.message }),
  },
  en: {
    completed: (m) => ({ message: `Transcode complete: ${m.title}`, description: `Format: ${m.format_type}` }),
    failed: (m) => ({ message: `Transcode failed: ${m.title}`, description: m.error }),
    system: (m) => ({ message: 'System message', description: m.message }),
  },
};

/** The specification's (Chinese) toast texts: `toastTextsByLocale.zh`. */
export const defaultToastTexts: ToastTexts = toastTextsByLocale.zh;

export interface WebSocketProviderProps extends ConnectionOptions {
  children?: ReactNode;
  /** A client the app created and owns (the provider neither connects nor closes it). */
  client?: HeraldClient;
  /** Connection options as one object (same fields as the flat props; flat props win). */
  options?: ConnectionOptions;
  /**
   * Which endpoint the provider's connection uses. Default `'auto'`: the admin endpoint
   * when the token says the user is an admin (`is_admin` or `adm` claim true), so the
   * specification's admin console gets transcode progress; the user endpoint otherwise.
   */
  isAdmin?: boolean | 'auto';
  /** Registry to share connections through (default: the nearest `HeraldRegistryProvider`'s, or `defaultRegistry`). */
  registry?: ConnectionRegistry;
  /** Shows toasts for completions, failures and system messages; none without it. */
  notify?: Notifier;
  /** Show toasts through `notify` (default `true`). */
  toasts?: boolean;
  toastTexts?: Partial<ToastTexts>;
  /** Language of the built-in toast texts (default `'zh'`, as in the specification); `toastTexts` overrides them. */
  locale?: HeraldLocale;
  /** How many recent notifications to keep (default 50). */
  notificationLimit?: number;
  onError?: (error: HeraldClientError) => void;
  /** Every custom event (a type a producer made up, with its `data`); see also `useHeraldEvent`. */
  onEvent?: (event: CustomEventMessage) => void;
}

const WebSocketContext = createContext<WebSocketContextValue | null>(null);
WebSocketContext.displayName = 'HeraldWebSocketContext';

const EMPTY_FEED: FeedSnapshot = { notifications: [], transcodeProgress: new Map() };
const noSubscribe = (): (() => void) => () => {};
const emptyFeed = (): FeedSnapshot => EMPTY_FEED;

/**
 * Mounts a Herald connection for the tree below and shares its state through
 * `useWebSocketContext()`. Pass `client` to use one the app created, or connection
 * options (`url`, `getToken`/`token`, `isAdmin`, …) to share one from the registry. With
 * no options at all (the specification's `<WebSocketProvider>`), it connects to the page's
 * origin with `localStorage.getItem('token')`, to the endpoint the token's admin claim
 * selects. This core provider shows no toasts unless given `notify`; the one in
 * `@herald/react/antd` shows Ant Design toasts.
 *
 * @example
 * <WebSocketProvider isAdmin getToken={() => session.accessToken()}>
 *   <App />
 * </WebSocketProvider>
 */
export function WebSocketProvider(props: WebSocketProviderProps): ReactNode {
  const { children, client: external, isAdmin = 'auto', registry, notify, toasts = true, toastTexts, locale = 'zh', notificationLimit, onError, onEvent, options: grouped, ...flat } = props;
  const options: ConnectionOptions = { ...grouped, ...flat };
  const latest = useRef({ toasts, toastTexts, locale, onError, notify, onEvent });
  latest.current = { toasts, toastTexts, locale, onError, notify, onEvent };

  const attachToasts = useCallback((client: HeraldClient) => {
    const texts = (): ToastTexts => ({ ...(toastTextsByLocale[latest.current.locale] ?? defaultToastTexts), ...latest.current.toastTexts });
    const show = (level: Level, content: { message: string; description?: string }): void => {
      if (latest.current.toasts) latest.current.notify?.(level, content);
    };
    const offs = [
      client.on('transcode_complete', (m) => show('success', texts().completed(m))),
      client.on('transcode_failed', (m) => show('error', texts().failed(m))),
      client.on('system_message', (m) => show(isLevel(m.level) ? m.level : 'info', texts().system(m))),
      client.on('event', (e) => latest.current.onEvent?.(e)),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  const inherited = useRegistry();
  const content = (
    <Connected
      external={external}
      isAdmin={isAdmin}
      options={options}
      onError={(error) => latest.current.onError?.(error)}
      attach={attachToasts}
      notificationLimit={notificationLimit}
    >
      {children}
    </Connected>
  );
  return registry && registry !== inherited ? <HeraldRegistryProvider registry={registry}>{content}</HeraldRegistryProvider> : content;
}

interface ConnectedProps {
  external: HeraldClient | undefined;
  isAdmin: boolean | 'auto';
  options: ConnectionOptions;
  onError: (error: HeraldClientError) => void;
  attach: (client: HeraldClient) => () => void;
  notificationLimit: number | undefined;
  children?: ReactNode;
}

function Connected({ external, isAdmin, options, onError, attach, notificationLimit, children }: ConnectedProps): ReactNode {
  const managed = useManagedClient(external, isAdmin, options, onError, attach, notificationLimit);
  const client = managed?.client ?? null;
  const feed = managed?.feed;
  const snapshot = useClientSnapshot(client);
  const feedSnapshot = useSyncExternalStore(feed ? feed.subscribe : noSubscribe, feed ? feed.getSnapshot : emptyFeed, feed ? feed.getSnapshot : emptyFeed);

  const markAsRead = useCallback(
    (ids?: readonly number[] | SyntheticEvent) => {
      client?.markRead(Array.isArray(ids) ? ids : undefined);
    },
    [client],
  );

  const value = useMemo<WebSocketContextValue>(
    () => ({
      client,
      isConnected: snapshot.state === 'open',
      state: snapshot.state,
      unreadCount: snapshot.unreadCount,
      markAsRead,
      notifications: feedSnapshot.notifications,
      transcodeProgress: feedSnapshot.transcodeProgress,
      error: snapshot.error,
    }),
    [client, snapshot.state, snapshot.unreadCount, snapshot.error, markAsRead, feedSnapshot],
  );

  return <WebSocketContext.Provider value={value}>{children}</WebSocketContext.Provider>;
}

/**
 * The state of the nearest `<WebSocketProvider>`: `isConnected`, `unreadCount`,
 * `markAsRead`, `notifications`, `transcodeProgress`, `state`.
 *
 * @throws Error when called outside a `<WebSocketProvider>`.
 */
export function useWebSocketContext(): WebSocketContextValue {
  const value = useContext(WebSocketContext);
  if (!value) {
    throw new Error(
      'useWebSocketContext() must be called inside <WebSocketProvider>. Wrap your app (e.g. in App.tsx) with ' +
        '<WebSocketProvider getToken={...}>, or use useWebSocket() for a standalone connection.',
    );
  }
  return value;
}

/** Like `useWebSocketContext()` but returns `null` outside a provider (for optional integrations). */
export function useOptionalWebSocketContext(): WebSocketContextValue | null {
  return useContext(WebSocketContext);
}
