import { useEffect, useState, type ReactNode } from 'react';
import { App, Button, Card, Form, Input, Radio, Select } from 'antd';
import { SendOutlined } from '../icons.js';
import { useAuth } from '../auth/AuthContext.js';
import type { Level, Target, User } from '../api/types.js';
import { useI18n } from '../i18n/I18n.js';

interface BroadcastForm {
  message: string;
  level: Level;
  audience: 'all' | 'admin' | 'user';
  userId?: number;
}

/** Sends a system_message to everyone, to the administrators, or to one user. */
export function BroadcastPage(): ReactNode {
  const { api } = useAuth();
  const { t } = useI18n();
  const { message } = App.useApp();
  const [form] = Form.useForm<BroadcastForm>();
  const audience = Form.useWatch('audience', form);
  const [users, setUsers] = useState<User[]>([]);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    if (audience === 'user' && users.length === 0) api.users().then(setUsers, () => undefined);
  }, [audience, users.length, api]);

  const onFinish = async (values: BroadcastForm) => {
    const target: Target = values.audience === 'user' ? values.userId! : values.audience;
    setSending(true);
    try {
      await api.broadcast({ message: values.message, level: values.level, target });
      message.success(t('broadcast.sent'));
      form.resetFields(['message']);
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    } finally {
      setSending(false);
    }
  };

  return (
    <Card title={t('broadcast.title')} style={{ maxWidth: 720 }}>
      <Form form={form} layout="vertical" initialValues={{ level: 'info', audience: 'all' }} onFinish={onFinish}>
        <Form.Item name="message" label={t('broadcast.message')} rules={[{ required: true, max: 2000, message: t('login.required', { field: t('broadcast.message') }) }]}>
          <Input.TextArea rows={4} maxLength={2000} showCount data-testid="broadcast-message" />
        </Form.Item>
        <Form.Item name="level" label={t('broadcast.level')}>
          <Radio.Group optionType="button" options={(['info', 'success', 'warning', 'error'] as const).map((level) => ({ value: level, label: t(`level.${level}`) }))} />
        </Form.Item>
        <Form.Item name="audience" label={t('broadcast.target')}>
          <Radio.Group
            options={[
              { value: 'all', label: t('broadcast.target.all') },
              { value: 'admin', label: t('broadcast.target.admin') },
              { value: 'user', label: t('broadcast.target.user') },
            ]}
          />
        </Form.Item>
        {audience === 'user' && (
          <Form.Item name="userId" label={t('broadcast.user')} rules={[{ required: true, message: t('login.required', { field: t('broadcast.user') }) }]}>
            <Select showSearch optionFilterProp="label" options={users.map((user) => ({ value: user.id, label: `${user.username} (#${user.id})` }))} />
          </Form.Item>
        )}
        <Button type="primary" htmlType="submit" icon={<SendOutlined />} loading={sending} data-testid="broadcast-send">
          {t('broadcast.send')}
        </Button>
      </Form>
    </Card>
  );
}
