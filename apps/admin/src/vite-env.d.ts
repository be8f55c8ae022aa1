/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** WebSocket base URL (`ws(s)://host[:port]`); default: the page's own origin. */
  readonly VITE_WS_URL?: string;
}
