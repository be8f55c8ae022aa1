export { useWebSocket, type UseWebSocketOptions, type UseWebSocketResult, type WebSocketCallbacks } from './useWebSocket.js';
export {
  WebSocketProvider,
  useWebSocketContext,
  useOptionalWebSocketContext,
  defaultToastTexts,
  toastTextsByLocale,
  type HeraldLocale,
  type Notifier,
  type ToastTexts,
  type WebSocketContextValue,
  type WebSocketProviderProps,
} from './WebSocketContext.js';
export {
  useTranscodeStatus,
  CONNECTED_POLL_FACTOR,
  type TranscodeStatusInfo,
  type TranscodeStatusOptions,
  type TranscodeStatusState,
} from './useTranscodeStatus.js';
export { HeraldRegistryProvider, useRegistry } from './registry-context.js';
export { useHeraldEvent } from './useHeraldEvent.js';
export { useClientSnapshot, type ConnectionOptions } from './useManagedClient.js';
export { ConnectionRegistry, defaultRegistry } from '@herald/client';
