import { useState, type ReactNode } from 'react';
import { Alert, Button, Card, Form, Input, Layout, Space } from 'antd';
import { LockOutlined, UserOutlined } from '../icons.js';
import { useAuth } from '../auth/AuthContext.js';
import { useI18n } from '../i18n/I18n.js';
import { navigate, safeReturnPath, useLocation } from '../router.js';

export function LoginPage(): ReactNode {
  const { signIn } = useAuth();
  const { t, lang, setLang } = useI18n();
  const { search } = useLocation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const expired = search.get('reason') === 'expired';

  const onFinish = async (values: { username: string; password: string }) => {
    setBusy(true);
    setError(null);
    try {
      await signIn(values.username, values.password);
      navigate(safeReturnPath(search.get('next')), { replace: true });
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      setError(status === 429 ? t('login.rateLimited') : status === 401 ? t('login.failed') : (cause as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Layout style={{ minHeight: '100vh', alignItems: 'center', justifyContent: 'center', padding: 12 }}>
      <Card title={t('login.title')} style={{ width: '100%', maxWidth: 380 }} extra={<Button type="link" lang={lang === 'zh' ? 'en' : 'zh-CN'} onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')} data-testid="lang-switch">{t('lang.switch')}</Button>}>
        <Space direction="vertical" style={{ width: '100%' }}>
          {expired && !error && <Alert type="warning" showIcon message={t('login.expired')} />}
          {error && <Alert type="error" showIcon message={error} data-testid="login-error" />}
          <Form layout="vertical" onFinish={onFinish} requiredMark={false}>
            <Form.Item name="username" label={t('login.username')} rules={[{ required: true, message: t('login.required', { field: t('login.username') }) }]}>
              <Input prefix={<UserOutlined />} autoComplete="username" autoFocus />
            </Form.Item>
            <Form.Item name="password" label={t('login.password')} rules={[{ required: true, message: t('login.required', { field: t('login.password') }) }]}>
              <Input.Password prefix={<LockOutlined />} autoComplete="current-password" />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('login.submit')}
            </Button>
          </Form>
        </Space>
      </Card>
    </Layout>
  );
}
