/**
 * The Ant Design parts of `@herald/react`: the provider with toasts, `NotificationBadge`
 * and `TranscodeStatus`. Needs `antd` and `@ant-design/icons` (optional peer
 * dependencies); the core hooks are re-exported so an app can import everything from here.
 */
export { WebSocketProvider } from './WebSocketProvider.js';
export { NotificationBadge, badgeLabelsByLocale, defaultBadgeLabels, type NotificationBadgeLabels, type NotificationBadgeProps } from './NotificationBadge.js';
export { TranscodeStatus, type TranscodeStatusProps } from './TranscodeStatus.js';
export {
  useWebSocket,
  useWebSocketContext,
  useOptionalWebSocketContext,
  useTranscodeStatus,
  HeraldRegistryProvider,
  toastTextsByLocale,
  type HeraldLocale,
  type ToastTexts,
  type TranscodeStatusInfo,
  type UseWebSocketOptions,
  type UseWebSocketResult,
  type WebSocketContextValue,
  type WebSocketProviderProps,
} from '../index.js';
