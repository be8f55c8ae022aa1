import { useEffect, useState, type ReactNode } from 'react';
import { Alert } from 'antd';
import { useWebSocketContext } from '@herald/react';
import { useI18n } from '../i18n/I18n.js';
import { refusalText } from './describe.js';

/**
 * Says why the server refused the connection (origin not allowed, token refused, too
 * many connections) instead of a bare "Disconnected"; gone once connected again.
 */
export function ConnectionNotice(): ReactNode {
  const { client, state } = useWebSocketContext();
  const { t } = useI18n();
  const [refusal, setRefusal] = useState<{ code: number; reason: string } | null>(null);
  useEffect(() => {
    if (!client) return undefined;
    const offs = [client.on('disconnect', ({ code, reason }) => setRefusal({ code, reason })), client.on('connected', () => setRefusal(null))];
    return () => offs.forEach((off) => off());
  }, [client]);
  const text = refusal && state !== 'open' ? refusalText(refusal.code, refusal.reason, t, window.location.origin) : null;
  if (!text) return null;
  return <Alert type="error" showIcon message={t('refused.title')} description={text} style={{ marginBottom: 16 }} data-testid="connection-refused" data-code={refusal!.code} />;
}
