import { HeraldClient } from './client.js';
import { defaultBaseUrl, defaultWebSocket } from './environment.js';
import { NotificationFeed } from './feed.js';
import type { ErrorLogger, HeraldClientOptions } from './options.js';
import { crossTabEnvironment, TabShare, type TabShareEnvironment } from './tab-share.js';
import { localStorageTokenProvider, readClaims, tokenSaysAdmin } from './token.js';

export interface AcquireOptions extends HeraldClientOptions {
  /**
   * Who connects, when one page connects as several users (part of the sharing key).
   * Default: the `sub` of the stored token when the token comes from `localStorage`,
   * otherwise `''` (every caller of the same endpoint shares one connection).
   */
  identity?: string;
  /** Share this connection with the other tabs of the browser (default: the registry's `crossTab`). */
  crossTab?: boolean;
  /** How many notifications the shared feed keeps (first caller decides; default 50). */
  feedLimit?: number;
}

/** A use of a shared connection; `release()` it exactly once (the last release closes the connection). */
export interface ConnectionLease {
  readonly key: string;
  readonly client: HeraldClient;
  readonly feed: NotificationFeed;
  release(): void;
}

export interface ConnectionRegistryOptions {
  /**
   * One socket per browser instead of one per tab, where Web Locks and BroadcastChannel
   * exist (default `true`; falls back to one socket per tab where they do not).
   */
  crossTab?: boolean;
  /** Prefix of the Web Lock and BroadcastChannel names (default `herald`). */
  namespace?: string;
  /** For tests: the Web Locks / BroadcastChannel to use instead of the page's. */
  environment?: TabShareEnvironment;
}

interface Entry {
  client: HeraldClient;
  feed: NotificationFeed;
  share: TabShare | undefined;
  users: number;
}

/**
 * Shares connections: every caller that acquires the same server, endpoint and identity
 * gets the same client (one socket per tab), reference-counted and closed when the last
 * lease is released. With `crossTab` the tabs of a browser also share one socket (see
 * `TabShare`). The first caller's options create the client; later callers only add
 * their listeners.
 *
 * @example
 * const registry = new ConnectionRegistry();
 * const lease = registry.acquire({ url: 'wss://videos.example.com', isAdmin: true });
 * lease.client.on('transcode_progress', (m) => console.log(m.progress));
 * lease.client.connect();
 * // …
 * lease.release();
 */
export class ConnectionRegistry {
  readonly #entries = new Map<string, Entry>();
  readonly #crossTab: boolean;
  readonly #namespace: string;
  readonly #environment: TabShareEnvironment | undefined;
  /** Failures already logged: the same cause from several connections is said once (until one connects). */
  readonly #logged = new Set<string>();

  constructor(options: ConnectionRegistryOptions = {}) {
    this.#crossTab = options.crossTab ?? true;
    this.#namespace = options.namespace ?? 'herald';
    this.#environment = options.environment;
  }

  /** The sharing key of these options: endpoint (or server and admin flag) and identity. */
  static keyOf(options: AcquireOptions): string {
    const sync = options.getToken ? undefined : localStorageTokenProvider()?.({ forceRefresh: false });
    const token = typeof sync === 'string' ? sync : undefined;
    // 'auto' with the token at hand is decided now (no token: the user endpoint, as the rule says).
    const admin = options.isAdmin === 'auto' && !options.getToken ? tokenSaysAdmin(token) : (options.isAdmin ?? false);
    const sub = readClaims(token)?.sub;
    const identity = options.identity ?? (typeof sub === 'string' || typeof sub === 'number' ? String(sub) : '');
    const where = options.endpoint ?? `${(options.url ?? defaultBaseUrl() ?? '').replace(/\/+$/, '')}|${String(admin)}`;
    return `${where}|${identity}`;
  }

  /** Number of open shared connections. */
  get size(): number {
    return this.#entries.size;
  }

  /** Users of the connection with this key (0 when there is none). */
  users(key: string): number {
    return this.#entries.get(key)?.users ?? 0;
  }

  /** Gets (or creates, not yet connected) the shared connection for these options. */
  acquire(options: AcquireOptions): ConnectionLease {
    const key = ConnectionRegistry.keyOf(options);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.#create(key, options);
      this.#entries.set(key, entry);
    }
    entry.users += 1;
    const current = entry;
    let released = false;
    return {
      key,
      client: current.client,
      feed: current.feed,
      release: () => {
        if (released) return;
        released = true;
        current.users -= 1;
        if (current.users > 0 || this.#entries.get(key) !== current) return;
        this.#entries.delete(key);
        this.#close(current);
      },
    };
  }

  /** Closes every connection and forgets them (tests; sign-out). Leases still held become no-ops. */
  reset(): void {
    for (const entry of this.#entries.values()) this.#close(entry);
    this.#entries.clear();
  }

  #create(key: string, options: AcquireOptions): Entry {
    const { identity: _identity, crossTab, feedLimit, ...clientOptions } = options;
    const env = (crossTab ?? this.#crossTab) ? (this.#environment ?? crossTabEnvironment()) : undefined;
    const Real = options.WebSocket ?? defaultWebSocket();
    const share = env && Real ? new TabShare(`${this.#namespace}:${key}`, Real, env) : undefined;
    const base = options.logger === undefined ? (globalThis as { console?: ErrorLogger }).console : options.logger;
    const logger: ErrorLogger | null = base
      ? {
          error: (...data: unknown[]) => {
            const text = data.map(String).join(' ');
            if (this.#logged.has(text)) return;
            this.#logged.add(text);
            base.error(...data);
          },
        }
      : null;
    const client = new HeraldClient({ ...clientOptions, logger, autoConnect: false, WebSocket: share?.WebSocket ?? clientOptions.WebSocket });
    client.on('state', ({ state }) => {
      if (state === 'open') this.#logged.clear();
    });
    share?.attach(client);
    return { client, feed: new NotificationFeed(client, { limit: feedLimit }), share, users: 0 };
  }

  #close(entry: Entry): void {
    // The share goes first: a leader that closes its client must not tell the other tabs to
    // stop; releasing the lock hands the socket over to one of them instead.
    entry.share?.dispose();
    entry.feed.dispose();
    entry.client.close();
  }
}

/**
 * The registry used by hooks and providers that are given none: one named object, so
 * tests can `defaultRegistry.reset()` between cases.
 */
export const defaultRegistry = new ConnectionRegistry();
