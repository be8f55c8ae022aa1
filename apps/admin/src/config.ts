/**
 * Where the console talks to Herald. By default the page's own origin (the server serves
 * the console, and `npm run dev` proxies /api), so one build works behind any host name.
 * `VITE_WS_URL` points the console at another server; HTTP then goes to the same host.
 */
export interface Endpoints {
  /** `ws(s)://host[:port]` for the WebSocket client. */
  wsUrl: string;
  /** `http(s)://host[:port]` prefix for API requests ('' = same origin). */
  httpUrl: string;
}

export function resolveEndpoints(override: string | undefined, location: { protocol: string; host: string }): Endpoints {
  if (override) {
    const ws = override.replace(/\/+$/, '');
    return { wsUrl: ws, httpUrl: ws.replace(/^ws/, 'http') };
  }
  return { wsUrl: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`, httpUrl: '' };
}

export const endpoints: Endpoints = resolveEndpoints(import.meta.env.VITE_WS_URL, window.location);
