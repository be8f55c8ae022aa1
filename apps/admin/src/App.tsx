import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { App as AntApp } from 'antd';
import { AuthProvider, useAuth } from './auth/AuthContext.js';
import { I18nProvider } from './i18n/I18n.js';
import { loginPath, navigate, useLocation } from './router.js';

// One chunk per page (and one for the signed-in shell with the WebSocket client): the
// sign-in page loads only what it shows.
const AdminShell = lazy(() => import('./AdminShell.js').then((m) => ({ default: m.AdminShell })));
const LoginPage = lazy(() => import('./pages/LoginPage.js').then((m) => ({ default: m.LoginPage })));
const ForbiddenPage = lazy(() => import('./pages/ForbiddenPage.js').then((m) => ({ default: m.ForbiddenPage })));
const NotFoundPage = lazy(() => import('./pages/NotFoundPage.js').then((m) => ({ default: m.NotFoundPage })));

const PAGES: Record<string, ReturnType<typeof lazy>> = {
  '/': lazy(() => import('./pages/DashboardPage.js').then((m) => ({ default: m.DashboardPage }))),
  '/videos': lazy(() => import('./pages/VideosPage.js').then((m) => ({ default: m.VideosPage }))),
  '/notifications': lazy(() => import('./pages/NotificationsPage.js').then((m) => ({ default: m.NotificationsPage }))),
  '/broadcast': lazy(() => import('./pages/BroadcastPage.js').then((m) => ({ default: m.BroadcastPage }))),
  '/users': lazy(() => import('./pages/UsersPage.js').then((m) => ({ default: m.UsersPage }))),
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
      {/* The shell (header, menu, connection) stays while the next page's chunk loads. */}
      <Suspense fallback={null}>
        <Page />
      </Suspense>
    </AdminShell>
  );
}

export function App(): ReactNode {
  return (
    <I18nProvider>
      {/* Toasts bottom-right and messages below the header: never over the badge and connection state. */}
      <AntApp notification={{ placement: 'bottomRight' }} message={{ top: 72 }}>
        <AuthProvider>
          <Suspense fallback={null}>
            <Routes />
          </Suspense>
        </AuthProvider>
      </AntApp>
    </I18nProvider>
  );
}
