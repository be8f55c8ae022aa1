export { useWebSocket, type UseWebSocketOptions, type UseWebSocketResult, type WebSocketCallbacks } from './useWebSocket.js';
export {
  WebSocketProvider,
  useWebSocketContext,
  useOptionalWebSocketContext,
  type ToastTexts,
  type WebSocketContextValue,
  type WebSocketProviderProps,
} from './WebSocketContext.js';
export { NotificationBadge, defaultBadgeLabels, type NotificationBadgeLabels, type NotificationBadgeProps } from './NotificationBadge.js';
export { TranscodeStatus, type TranscodeStatusInfo, type TranscodeStatusProps } from './TranscodeStatus.js';
export { useClientSnapshot, type ConnectionOptions } from './useManagedClient.js';
