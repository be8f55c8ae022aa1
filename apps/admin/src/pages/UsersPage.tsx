import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { App, Button, Card, Checkbox, Form, Input, Modal, Switch, Table, Tooltip } from 'antd';
import { UserAddOutlined } from '../icons.js';
import { useAuth } from '../auth/AuthContext.js';
import type { User } from '../api/types.js';
import { useI18n } from '../i18n/I18n.js';
import { formatTime } from '../i18n/format.js';

/** Users: list, create, grant or revoke admin rights. */
export function UsersPage(): ReactNode {
  const { api, user: me } = useAuth();
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [users, setUsers] = useState<User[]>([]);
  const [loading, setLoading] = useState(false);
  const [creating, setCreating] = useState(false);
  const [form] = Form.useForm<{ username: string; password: string; is_admin: boolean }>();

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setUsers(await api.users());
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    } finally {
      setLoading(false);
    }
  }, [api, message, t]);

  useEffect(() => {
    void load();
  }, [load]);

  const create = async () => {
    const values = await form.validateFields();
    try {
      const user = await api.createUser({ ...values, is_admin: values.is_admin ?? false });
      message.success(t('users.created', { name: user.username }));
      setCreating(false);
      form.resetFields();
      void load();
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  const setAdmin = async (user: User, isAdmin: boolean) => {
    try {
      const updated = await api.setAdmin(user.id, isAdmin);
      setUsers((current) => current.map((u) => (u.id === updated.id ? { ...u, ...updated } : u)));
      message.success(t(isAdmin ? 'users.granted' : 'users.revoked', { name: user.username }));
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  return (
    <Card
      title={t('nav.users')}
      extra={
        <Button type="primary" icon={<UserAddOutlined />} onClick={() => setCreating(true)}>
          {t('users.create')}
        </Button>
      }
    >
      <Table<User>
        rowKey="id"
        loading={loading}
        dataSource={users}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('users.id'), dataIndex: 'id', width: 80 },
          { title: t('users.username'), dataIndex: 'username' },
          { title: t('users.createdAt'), render: (_, user) => formatTime(user.created_at, lang) },
          {
            title: t('users.isAdmin'),
            render: (_, user) => (
              // Revoking one's own rights would lock the console from under one's feet.
              <Tooltip title={user.id === me?.id ? t('users.self') : undefined}>
                <Switch checked={user.is_admin} disabled={user.id === me?.id} aria-label={`${t('users.isAdmin')}: ${user.username}`} onChange={(checked) => void setAdmin(user, checked)} />
              </Tooltip>
            ),
          },
        ]}
      />
      <Modal open={creating} title={t('users.create')} onOk={() => void create()} onCancel={() => setCreating(false)} okText={t('common.ok')} cancelText={t('common.cancel')} destroyOnHidden>
        <Form form={form} layout="vertical" initialValues={{ is_admin: false }}>
          <Form.Item name="username" label={t('users.username')} rules={[{ required: true }, { pattern: /^[A-Za-z0-9_.-]{1,64}$/, message: t('users.usernameRule') }]}>
            <Input autoComplete="off" />
          </Form.Item>
          <Form.Item name="password" label={t('users.password')} rules={[{ required: true }, { min: 8, message: t('users.passwordRule') }]}>
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Form.Item name="is_admin" valuePropName="checked">
            <Checkbox>{t('users.isAdmin')}</Checkbox>
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
