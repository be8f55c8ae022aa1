import type { CSSProperties, ReactNode } from 'react';
import { Badge, Space, Typography } from 'antd';
import { BellOutlined } from '@ant-design/icons';
import { useWebSocketContext, type HeraldLocale } from '../WebSocketContext.js';

/** Status texts; defaults are the specification's Chinese. */
export interface NotificationBadgeLabels {
  connected: string;
  disconnected: string;
  connecting: string;
  reconnecting: string;
  /** Shown when the connection stopped for good (no token, 4001, 4003); the cause is the tooltip. */
  error: string;
}

/** The built-in status texts per locale. */
export const badgeLabelsByLocale: Record<HeraldLocale, NotificationBadgeLabels> = {
  zh: { connected: '已连接', disconnected: '已断开', connecting: '连接中', reconnecting: '重连中', error: '连接失败' },
  en: { connected: 'Connected', disconnected: 'Disconnected', connecting: 'Connecting', reconnecting: 'Reconnecting', error: 'Connection failed' },
};

/** The specification's (Chinese) status texts. */
export const defaultBadgeLabels: NotificationBadgeLabels = badgeLabelsByLocale.zh;

export interface NotificationBadgeProps {
  /** Language of the built-in texts: `'zh'` (default, as in the specification) or `'en'`. */
  locale?: HeraldLocale;
  /** Override some or all status texts, e.g. `{ connected: 'Online', disconnected: 'Offline' }`; they win over `locale`. */
  labels?: Partial<NotificationBadgeLabels>;
  /** Show the connection state text beside the bell (default `true`). */
  showStatus?: boolean;
  /** Bell click; default marks all notifications read. */
  onClick?: () => void;
  className?: string;
  style?: CSSProperties;
}

/**
 * Bell with the unread count and the connection state. Must be inside `<WebSocketProvider>`.
 *
 * @example
 * <NotificationBadge locale="en" />
 * <NotificationBadge labels={{ connected: 'Online', disconnected: 'Offline' }} />
 */
export function NotificationBadge({ locale = 'zh', labels, showStatus = true, onClick, className, style }: NotificationBadgeProps): ReactNode {
  const { unreadCount, state, markAsRead, error } = useWebSocketContext();
  const builtIn = badgeLabelsByLocale[locale] ?? badgeLabelsByLocale.zh;
  const texts = { ...builtIn, ...labels };
  const failed = state === 'closed' && error !== null;
  const text = state === 'open' ? texts.connected : failed ? texts.error : state === 'closed' ? texts.disconnected : texts[state];
  return (
    <Space className={className} style={style} size="small">
      <Badge count={unreadCount} size="small">
        <BellOutlined
          role="button"
          aria-label={`notifications (${unreadCount})`}
          style={{ fontSize: 18, cursor: 'pointer' }}
          onClick={() => (onClick ? onClick() : markAsRead())}
        />
      </Badge>
      {showStatus && (
        <Typography.Text
          type={state === 'open' ? 'success' : state === 'closed' ? 'danger' : 'warning'}
          data-state={state}
          data-error={failed ? error.code : undefined}
          title={failed ? error.message : undefined}
        >
          {text}
        </Typography.Text>
      )}
    </Space>
  );
}

export default NotificationBadge;
