import { useEffect, type ReactNode } from 'react';
import { App as AntApp } from 'antd';
import { AdminShell } from './AdminShell.js';
import { AuthProvider, useAuth } from './auth/AuthContext.js';
import { I18nProvider } from './i18n/I18n.js';
import { BroadcastPage } from './pages/BroadcastPage.js';
import { DashboardPage } from './pages/DashboardPage.js';
import { ForbiddenPage } from './pages/ForbiddenPage.js';
import { LoginPage } from './pages/LoginPage.js';
import { NotFoundPage } from './pages/NotFoundPage.js';
import { NotificationsPage } from './pages/NotificationsPage.js';
import { UsersPage } from './pages/UsersPage.js';
import { VideosPage } from './pages/VideosPage.js';
import { loginPath, navigate, useLocation } from './router.js';

const PAGES: Record<string, () => ReactNode> = {
  '/': DashboardPage,
  '/videos': VideosPage,
  '/notifications': NotificationsPage,
  '/broadcast': BroadcastPage,
  '/users': UsersPage,
};

function Routes(): ReactNode {
  const { user } = useAuth();
  const { pathname, path } = useLocation();
  const signedOut = !user && pathname !== '/login';
  useEffect(() => {
    if (signedOut) navigate(loginPath(path), { replace: true });
  }, [signedOut, path]);

  if (pathname === '/login') return <LoginPage />;
  if (!user) return null;
  // A non-admin never reaches AdminShell, so never opens the admin WebSocket.
  if (!user.is_admin) return <ForbiddenPage />;
  const Page = PAGES[pathname.replace(/\/+$/, '') || '/'] ?? NotFoundPage;
  return (
    <AdminShell>
      <Page />
    </AdminShell>
  );
}

export function App(): ReactNode {
  return (
    <I18nProvider>
      <AntApp>
        <AuthProvider>
          <Routes />
        </AuthProvider>
      </AntApp>
    </I18nProvider>
  );
}
