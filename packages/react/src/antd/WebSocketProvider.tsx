import { useCallback, type ReactNode } from 'react';
import { notification } from 'antd';
import { WebSocketProvider as CoreProvider, type Notifier, type WebSocketProviderProps } from '../WebSocketContext.js';

/**
 * `WebSocketProvider` with the specification's Ant Design integration: completions,
 * failures and system messages appear as `notification` toasts (turn off with
 * `toasts={false}`, reword with `toastTexts`). Everything else is the core provider.
 *
 * @example
 * <WebSocketProvider>
 *   <App />
 * </WebSocketProvider>
 */
export function WebSocketProvider(props: WebSocketProviderProps): ReactNode {
  const [api, contextHolder] = notification.useNotification();
  const notify = useCallback<Notifier>((level, content) => api[level](content), [api]);
  return (
    <CoreProvider notify={notify} {...props}>
      {contextHolder}
      {props.children}
    </CoreProvider>
  );
}

export default WebSocketProvider;
