import { useState, type ReactNode } from 'react';
import { Button, Drawer, Dropdown, Layout, Menu, Space, Typography } from 'antd';
import { NotificationBadge } from '@herald/react/antd';
import { useAuth } from '../auth/AuthContext.js';
import { useI18n } from '../i18n/I18n.js';
import { BellOutlined, DashboardOutlined, LogoutOutlined, MenuOutlined, NotificationOutlined, TeamOutlined, TranslationOutlined, UserOutlined, VideoCameraOutlined } from '../icons.js';
import { ConnectionNotice } from '../live/ConnectionNotice.js';
import { navigate, useLocation } from '../router.js';
import { useIsPhone } from './useIsPhone.js';

export const NAV = [
  { path: '/', key: 'nav.dashboard', icon: <DashboardOutlined /> },
  { path: '/videos', key: 'nav.videos', icon: <VideoCameraOutlined /> },
  { path: '/notifications', key: 'nav.notifications', icon: <BellOutlined /> },
  { path: '/broadcast', key: 'nav.broadcast', icon: <NotificationOutlined /> },
  { path: '/users', key: 'nav.users', icon: <TeamOutlined /> },
] as const;

/**
 * Navigation and the header every page shares: badge and connection state, language
 * switch, user menu. Wide screens get a collapsible side menu; phones a drawer, so the
 * content keeps the whole width.
 */
export function AppLayout({ children }: { children: ReactNode }): ReactNode {
  const { t, lang, setLang } = useI18n();
  const { user, signOut } = useAuth();
  const { pathname } = useLocation();
  const phone = useIsPhone();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const labels = {
    connected: t('status.connected'),
    disconnected: t('status.disconnected'),
    connecting: t('status.connecting'),
    reconnecting: t(phone ? 'status.reconnectingShort' : 'status.reconnecting'),
  };
  const menu = (
    <Menu
      mode="inline"
      selectedKeys={[pathname]}
      items={NAV.map((item) => ({ key: item.path, icon: item.icon, label: t(item.key) }))}
      onClick={({ key }) => {
        setDrawerOpen(false);
        navigate(key);
      }}
    />
  );
  const brand = <div style={{ padding: '16px 24px', fontWeight: 600, fontSize: 16, whiteSpace: 'nowrap', overflow: 'hidden' }}>{t('app.short')}</div>;
  return (
    <Layout style={{ minHeight: '100vh' }}>
      {!phone && (
        <Layout.Sider breakpoint="lg" collapsible theme="light" data-testid="side-menu">
          {brand}
          {menu}
        </Layout.Sider>
      )}
      {phone && (
        <Drawer open={drawerOpen} onClose={() => setDrawerOpen(false)} placement="left" width={240} title={t('app.title')} styles={{ body: { padding: 0 } }}>
          {menu}
        </Drawer>
      )}
      <Layout style={{ minWidth: 0 }}>
        <Layout.Header style={{ background: '#fff', padding: phone ? '0 8px 0 4px' : '0 24px', display: 'flex', alignItems: 'center', gap: phone ? 4 : 16 }}>
          {phone && <Button type="text" icon={<MenuOutlined />} aria-label={t('nav.menu')} onClick={() => setDrawerOpen(true)} data-testid="menu-button" />}
          <Typography.Title level={4} ellipsis style={{ margin: 0, flex: 1, minWidth: 0 }} data-testid="page-title">
            {phone ? t('app.short') : t('app.title')}
          </Typography.Title>
          <Space size={phone ? 2 : 'middle'} style={{ flex: 'none' }}>
            <span data-testid="header-badge" style={{ whiteSpace: 'nowrap', display: 'inline-block' }}>
              <NotificationBadge labels={labels} onClick={() => navigate('/notifications')} />
            </span>
            <Button
              type="text"
              icon={phone ? <TranslationOutlined /> : undefined}
              aria-label={phone ? t('lang.switch') : undefined}
              lang={lang === 'zh' ? 'en' : 'zh-CN'}
              onClick={() => setLang(lang === 'zh' ? 'en' : 'zh')}
              data-testid="lang-switch"
            >
              {phone ? null : t('lang.switch')}
            </Button>
            <Dropdown
              trigger={['click']} // phones have no hover
              menu={{
                items: [
                  { key: 'role', label: `${user?.username ?? ''} · ${t('user.admin')}`, disabled: true },
                  { type: 'divider' },
                  { key: 'signout', icon: <LogoutOutlined />, label: t('user.signOut'), onClick: signOut },
                ],
              }}
            >
              <Button type="text" icon={<UserOutlined />} aria-label={user?.username} data-testid="user-menu">
                {phone ? null : user?.username}
              </Button>
            </Dropdown>
          </Space>
        </Layout.Header>
        <Layout.Content style={{ margin: phone ? 12 : 24, minWidth: 0 }}>
          <ConnectionNotice />
          {children}
        </Layout.Content>
      </Layout>
    </Layout>
  );
}
