import { createContext, useCallback, useContext, useMemo, useRef, useSyncExternalStore, type ReactNode, type SyntheticEvent } from 'react';
import { notification } from 'antd';
import { isLevel, type SystemMessage, type TranscodeCompleteMessage, type TranscodeFailedMessage } from '@herald/protocol';
import type {
  ConnectionState,
  FeedNotification,
  FeedSnapshot,
  HeraldClient,
  HeraldClientError,
  TranscodeProgressEntry,
} from '@herald/client';
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
}

/** Texts of the Ant Design toasts; defaults are Chinese as in the specification. */
export interface ToastTexts {
  completed: (m: TranscodeCompleteMessage) => { message: string; description?: string };
  failed: (m: TranscodeFailedMessage) => { message: string; description?: string };
  system: (m: SystemMessage) => { message: string; description?: string };
}

const defaultToastTexts: ToastTexts = {
  completed: (m) => ({ message: `转码完成: ${m.title}`, description: `格式: ${m.format_type}` }),
  failed: (m) => ({ message: `转码失败: ${m.title}`, description: m.error }),
  system: (m) => ({ message: '系统消息', description: m.message }),
};

export interface WebSocketProviderProps extends ConnectionOptions {
  children?: ReactNode;
  /** A client the app created and owns (the provider neither connects nor closes it). */
  client?: HeraldClient;
  /** Connection options as one object (same fields as the flat props; flat props win). */
  options?: ConnectionOptions;
  /** Connect to the admin endpoint (when the provider creates the client). */
  isAdmin?: boolean;
  /** Show Ant Design toasts for completions, failures and system messages (default `true`). */
  toasts?: boolean;
  toastTexts?: Partial<ToastTexts>;
  /** How many recent notifications to keep (default 50). */
  notificationLimit?: number;
  onError?: (error: HeraldClientError) => void;
}

const WebSocketContext = createContext<WebSocketContextValue | null>(null);
WebSocketContext.displayName = 'HeraldWebSocketContext';

const EMPTY_FEED: FeedSnapshot = { notifications: [], transcodeProgress: new Map() };
const noSubscribe = (): (() => void) => () => {};
const emptyFeed = (): FeedSnapshot => EMPTY_FEED;

/**
 * Mounts one Herald connection for the tree below and shares its state through
 * `useWebSocketContext()`. Pass `client` to use one the app created, or connection
 * options (`url`, `getToken`/`token`, `isAdmin`, …) to let the provider own one.
 *
 * @example
 * <WebSocketProvider isAdmin getToken={() => localStorage.getItem('token')}>
 *   <App />
 * </WebSocketProvider>
 */
export function WebSocketProvider(props: WebSocketProviderProps): ReactNode {
  const { children, client: external, isAdmin = false, toasts = true, toastTexts, notificationLimit, onError, options: grouped, ...flat } = props;
  const options: ConnectionOptions = { ...grouped, ...flat };
  const [api, contextHolder] = notification.useNotification();
  const latest = useRef({ toasts, toastTexts, onError, api });
  latest.current = { toasts, toastTexts, onError, api };

  const attachToasts = useCallback((client: HeraldClient) => {
    const texts = (): ToastTexts => ({ ...defaultToastTexts, ...latest.current.toastTexts });
    const offs = [
      client.on('transcode_complete', (m) => {
        if (latest.current.toasts) latest.current.api.success(texts().completed(m));
      }),
      client.on('transcode_failed', (m) => {
        if (latest.current.toasts) latest.current.api.error(texts().failed(m));
      }),
      client.on('system_message', (m) => {
        if (latest.current.toasts) latest.current.api[isLevel(m.level) ? m.level : 'info'](texts().system(m));
      }),
    ];
    return () => offs.forEach((off) => off());
  }, []);

  const managed = useManagedClient(external, isAdmin, options, (error) => latest.current.onError?.(error), attachToasts, notificationLimit);
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
    }),
    [client, snapshot.state, snapshot.unreadCount, markAsRead, feedSnapshot],
  );

  return (
    <WebSocketContext.Provider value={value}>
      {contextHolder}
      {children}
    </WebSocketContext.Provider>
  );
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
