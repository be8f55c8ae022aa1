import { useMemo, type ReactNode } from 'react';
import { ClientErrorCode, type HeraldClientError, type TokenRequest } from '@herald/client';
import { WebSocketProvider, type ToastTexts } from '@herald/react/antd';
import { useAuth } from './auth/AuthContext.js';
import { SessionExpiredError } from './auth/session.js';
import { endpoints } from './config.js';
import { useI18n } from './i18n/I18n.js';
import { formatBytes } from './i18n/format.js';
import { AppLayout } from './layout/AppLayout.js';
import { EventLogProvider } from './live/EventLog.js';

/**
 * The signed-in administrator's console: one admin WebSocket for every page (mounted
 * only here, so a non-admin never opens it), toasts in the current language, the layout.
 */
export function AdminShell({ children }: { children: ReactNode }): ReactNode {
  const { session } = useAuth();
  const { t } = useI18n();

  const toastTexts = useMemo<Partial<ToastTexts>>(
    () => ({
      completed: (m) => ({ message: t('toast.completed', { title: m.title }), description: t('toast.completedText', { format: m.format_type, size: formatBytes(m.file_size) }) }),
      failed: (m) => ({ message: t('toast.failed', { title: m.title }), description: m.error }),
      system: (m) => ({ message: t('toast.system'), description: m.message }),
    }),
    [t],
  );

  const getToken = async ({ forceRefresh }: TokenRequest): Promise<string | null> => {
    try {
      return await session.accessToken({ forceRefresh });
    } catch (error) {
      // Signed out: no token stops the client; the session change sends the user to sign in.
      if (error instanceof SessionExpiredError) return null;
      throw error; // network trouble: the client reports it and retries with backoff
    }
  };

  const onError = (error: HeraldClientError) => {
    // Refused twice with a fresh token, or admin rights revoked: this session cannot use the console.
    if (error.code === ClientErrorCode.AUTH) session.expire();
    if (error.code === ClientErrorCode.FORBIDDEN) void recheckAdmin();
  };

  const recheckAdmin = async () => {
    try {
      const token = await session.accessToken();
      const response = await fetch(`${endpoints.httpUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      if (response.ok) session.updateUser(await response.json());
      else if (response.status === 401) session.expire();
    } catch {
      // Server unreachable: keep the session; the header already shows the connection is gone.
    }
  };

  return (
    <WebSocketProvider
      isAdmin
      url={endpoints.wsUrl}
      httpUrl={endpoints.httpUrl || undefined}
      getToken={getToken}
      // An admin console should come back on its own after any outage, however long.
      maxReconnectAttempts={Infinity}
      reconnectInterval={1000}
      maxReconnectInterval={10_000}
      toastTexts={toastTexts}
      onError={onError}
    >
      <EventLogProvider>
        <AppLayout>{children}</AppLayout>
      </EventLogProvider>
    </WebSocketProvider>
  );
}
