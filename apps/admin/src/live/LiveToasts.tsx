import { useEffect, type ReactNode } from 'react';
import { App } from 'antd';
import { useWebSocketContext } from '@herald/react';
import { useI18n } from '../i18n/I18n.js';
import { formatBytes } from '../i18n/format.js';

const LEVELS = new Set(['info', 'success', 'warning', 'error']);

/**
 * Toasts for completions, failures and system messages, in the console's language and
 * through the console's own notification API (placed bottom-right by `<App>`), so they
 * never cover the header's badge and connection state.
 */
export function LiveToasts(): ReactNode {
  const { client } = useWebSocketContext();
  const { notification } = App.useApp();
  const { t, lang } = useI18n();
  useEffect(() => {
    if (!client) return undefined;
    const offs = [
      client.on('transcode_complete', (m) =>
        notification.success({ message: t('toast.completed', { title: m.title }), description: t('toast.completedText', { format: m.format_type, size: formatBytes(m.file_size, lang) }) }),
      ),
      client.on('transcode_failed', (m) => notification.error({ message: t('toast.failed', { title: m.title }), description: m.error })),
      client.on('system_message', (m) => notification[LEVELS.has(m.level) ? m.level : 'info']({ message: t('toast.system'), description: m.message })),
    ];
    return () => offs.forEach((off) => off());
  }, [client, notification, t, lang]);
  return null;
}
