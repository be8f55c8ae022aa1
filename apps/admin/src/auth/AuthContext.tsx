import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Api } from '../api/http.js';
import { endpointsOf, type Endpoints } from '../api/endpoints.js';
import { endpoints as urls } from '../config.js';
import { loginPath, navigate } from '../router.js';
import { Session, type SessionUser } from './session.js';

interface AuthValue {
  session: Session;
  user: SessionUser | null;
  api: Endpoints;
  signIn: (username: string, password: string) => Promise<SessionUser>;
  signOut: () => void;
}

const AuthContext = createContext<AuthValue | null>(null);

/**
 * Owns the session for the app. When the server stops accepting it (refresh refused), the
 * user lands on the sign-in page with the path they were on, and returns there afterwards.
 */
export function AuthProvider({ children, session: given }: { children: ReactNode; session?: Session }): ReactNode {
  const [session] = useState(() => given ?? new Session(window.localStorage, urls.httpUrl));
  // Read as an external store: a navigation right after signing in must already see the user.
  const user = useSyncExternalStore(session.subscribe, session.getUser);
  const api = useMemo(() => endpointsOf(new Api(session, urls.httpUrl)), [session]);

  useEffect(() => {
    const off = session.subscribe((tokens, reason) => {
      const here = window.location.pathname + window.location.search;
      if (reason === 'expired') navigate(loginPath(here, 'expired'), { replace: true });
      else if (!tokens && !here.startsWith('/login')) navigate(loginPath(here), { replace: true });
    });
    const onStorage = (event: StorageEvent) => session.storageChanged(event.key);
    window.addEventListener('storage', onStorage);
    return () => {
      off();
      window.removeEventListener('storage', onStorage);
    };
  }, [session]);

  const value = useMemo<AuthValue>(
    () => ({
      session,
      user,
      api,
      signIn: (username, password) => session.signIn(username, password),
      signOut: () => {
        session.signOut();
        navigate('/login');
      },
    }),
    [session, user, api],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth() must be used inside <AuthProvider>');
  return value;
}
