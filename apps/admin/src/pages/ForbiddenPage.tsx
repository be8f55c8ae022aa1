import type { ReactNode } from 'react';
import { Button, Result } from 'antd';
import { useAuth } from '../auth/AuthContext.js';
import { useI18n } from '../i18n/I18n.js';

/** What a signed-in non-admin sees on every console path. */
export function ForbiddenPage(): ReactNode {
  const { user, signOut } = useAuth();
  const { t } = useI18n();
  return (
    <Result
      status="403"
      title={<span data-testid="forbidden">{t('forbidden.title')}</span>}
      subTitle={t('forbidden.text', { name: user?.username ?? '' })}
      extra={
        <Button type="primary" onClick={signOut}>
          {t('forbidden.switch')}
        </Button>
      }
    />
  );
}
