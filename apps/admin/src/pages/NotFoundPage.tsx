import type { ReactNode } from 'react';
import { Button, Result } from 'antd';
import { useI18n } from '../i18n/I18n.js';
import { navigate } from '../router.js';

export function NotFoundPage(): ReactNode {
  const { t } = useI18n();
  return (
    <Result
      status="404"
      title={t('notFound.title')}
      extra={
        <Button type="primary" onClick={() => navigate('/')}>
          {t('notFound.back')}
        </Button>
      }
    />
  );
}
