import type { ReactNode } from 'react';
import { Button, Dropdown, Layout, Menu, Space, Typography } from 'antd';
import { BellOutlined, DashboardOutlined, LogoutOutlined, NotificationOutlined, TeamOutlined, UserOutlined, VideoCameraOutlined } from '@ant-design/icons';
import { NotificationBadge } from '@herald/react/antd';
import { useAuth } from '../auth/AuthContext.js';
import { useI18n } from '../i18n/I18n.js';
import { navigate, useLocation } from '../router.js';

export const NAV = [
  { path: '/', key: 'nav.dashboard', icon: <DashboardOutlined /> },
  { path: '/videos', key: 'nav.videos', icon: <VideoCameraOutlined /> },
  { path: '/notifications', key: 'nav.notifications', icon: <BellOutlined /> },
  { path: '/broadcast', key: 'nav.broadcast', icon: <NotificationOutlined /> },
  { path: '/users', key: 'nav.users', icon: <TeamOutlined /> },
] as const;

/** Side navigation and the header every page shares: badge, language switch, user menu. */
export function AppLayout({ children }: { children: ReactNode }): ReactNode {
  const { t, lang, setLang } = useI18n();
  const { user, signOut } = useAuth();
  const { pathname } = useLocation();
  const labels = {
    connected: t('status.connected'),
    disconnected: t('status.disconnected'),
    connecting: t('status.connecting'),
    reconnecting: t('status.reconnecting'),
  };
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider breakpoint="lg" collapsedWidth={0} theme="light">
        <div style={{ padding: '16px 24px', fontWeight: 600, fontSize: 16 }}>Herald</div>
        <Menu
          mode="inline"
          selectedKeys={[pathname]}
          items={NAV.map((item) => ({ key: item.path, icon: item.icon, label: t(item.key) }))}
          onClick={({ key }) => navigate(key)}
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={{ background: '#fff', padding: '0 24px', display: 'flex', alignItems: 'center', justifyContent: 'space-between' }}>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {t('app.title')}
          </Typography.Title>
          <Space size="large">
            <span data-testid="header-badge">
              <NotificationBadge labels={labels} onClick={() => navigate('/notifications')} />
            </span>
            <Button type="text" onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')} data-testid="lang-switch">
              {t('lang.switch')}
            </Button>
            <Dropdown
              menu={{
                items: [
                  { key: 'role', label: t('user.admin'), disabled: true },
                  { type: 'divider' },
                  { key: 'signout', icon: <LogoutOutlined />, label: t('user.signOut'), onClick: signOut },
                ],
              }}
            >
              <Button type="text" icon={<UserOutlined />} data-testid="user-menu">
                {user?.username}
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: 24 }}>{children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
