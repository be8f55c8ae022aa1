import { CloseCode, TERMINAL_TRANSCODE_STATUSES, parseSince, type StreamPosition } from '@herald/protocol';
import type { HeraldClient } from './client.js';
import type { WebSocketConstructor } from './environment.js';
import { LeaderSocket, VirtualSocket, type VirtualLink } from './tab-sockets.js';

/* The parts of Web Locks and BroadcastChannel used here (lib.dom types differ across TS versions). */
interface LockManagerLike {
  request(name: string, options: { ifAvailable?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => unknown): Promise<unknown>;
}
interface ChannelLike {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}
type ChannelConstructor = new (name: string) => ChannelLike;

export interface TabShareEnvironment {
  locks: LockManagerLike;
  BroadcastChannel: ChannelConstructor;
}

/** Web Locks and BroadcastChannel of this page, or `undefined` where either is missing (Node, old browsers, some webviews). */
export function crossTabEnvironment(): TabShareEnvironment | undefined {
  const g = globalThis as { navigator?: { locks?: LockManagerLike }; BroadcastChannel?: ChannelConstructor };
  const locks = g.navigator?.locks;
  if (!locks || typeof locks.request !== 'function' || typeof g.BroadcastChannel !== 'function') return undefined;
  return { locks, BroadcastChannel: g.BroadcastChannel };
}

type Message =
  | { t: 'hello'; from: string; sid: number; since: StreamPosition }
  | { t: 'welcome'; to: string; sid: number; frames: string[] }
  | { t: 'frame'; data: string }
  | { t: 'send'; data: string }
  | { t: 'ping'; from: string; sid: number }
  | { t: 'pong'; to: string; sid: number }
  | { t: 'down'; code: number; reason: string; final: boolean; to?: string; sid?: number }
  | { t: 'leader' };

interface Hello {
  from: string;
  sid: number;
  since: StreamPosition;
}

/** Close reason that makes the client reopen at once (see `reconnectHint`). */
const REOPEN_NOW = 'reconnect_after_ms=0';
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(TERMINAL_TRANSCODE_STATUSES);
/** Persisted frames kept for followers that resume (a hand-over gap larger than this is a resync). */
const RING_SIZE = 1000;

/**
 * One socket for every tab of a browser: the tabs that use the same connection key elect a
 * leader with a Web Lock; the leader's client holds the real socket and relays each frame
 * over a BroadcastChannel; the other tabs' clients get a virtual socket fed from it. A
 * follower says where it stands (its `since`) and the leader welcomes it with a
 * `connected` at those positions plus the persisted frames it lacks (kept in a ring) and
 * the latest progress per video, so nothing is lost or shown twice. When the leader's tab
 * closes, the lock passes to a follower, whose client reopens on a real socket from its own
 * positions (server resume), and the other followers re-attach to it.
 */
export class TabShare {
  /** The constructor to give the tab's client: a real (relaying) socket when leading, a virtual one otherwise. */
  readonly WebSocket: WebSocketConstructor;
  readonly #id = Math.random().toString(36).slice(2);
  readonly #channel: ChannelLike;
  readonly #Real: WebSocketConstructor;
  readonly #abort = new AbortController();
  #role: 'pending' | 'leader' | 'follower' = 'pending';
  #releaseLock: (() => void) | null = null;
  #client: HeraldClient | null = null;
  #offClient: Array<() => void> = [];

  #virtual: VirtualSocket | null = null;
  /** The client's current socket is a real one (this tab leads). */
  #leading = false;
  #sid = 0;
  #hellos: Hello[] = [];
  #lastDown: { code: number; reason: string } | null = null;
  #connected: Record<string, unknown> | null = null;
  readonly #ring: Array<{ stream: string; offset: number; data: string }> = [];
  readonly #ringKeys = new Set<string>();
  readonly #progress = new Map<unknown, string>();

  constructor(name: string, Real: WebSocketConstructor, env: TabShareEnvironment) {
    this.#Real = Real;
    this.#channel = new env.BroadcastChannel(name);
    this.#channel.onmessage = (event) => this.#onMessage(event.data as Message);
    const create = (url: string, protocols?: string | string[]) => this.#create(url, protocols);
    this.WebSocket = function TabSharedWebSocket(url: string, protocols?: string | string[]) {
      return create(url, protocols);
    } as unknown as WebSocketConstructor;
    const lead = (): Promise<void> | undefined => {
      if (this.#abort.signal.aborted) return undefined; // disposed before the lock came (StrictMode's double effects)
      return new Promise<void>((release) => {
        this.#releaseLock = release;
        this.#lead();
      });
    };
    env.locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (this.#abort.signal.aborted) return undefined;
        if (lock) return lead();
        this.#follow();
        // Wait for the leader's tab to go; the lock then passes to one waiting tab.
        void env.locks.request(name, { signal: this.#abort.signal }, lead).catch(() => undefined);
        return undefined;
      })
      .catch(() => undefined);
  }

  get role(): 'pending' | 'leader' | 'follower' {
    return this.#role;
  }

  /** The client this tab uses for the key; the leader reads its state to welcome followers. */
  attach(client: HeraldClient): void {
    this.#client = client;
    this.#offClient = [
      client.on('state', ({ state }) => {
        if (this.#role !== 'leader') return;
        if (state === 'open') {
          this.#lastDown = null;
          for (const hello of this.#hellos.splice(0)) this.#welcome(hello);
        }
      }),
      client.on('disconnect', ({ code, reason, willReconnect }) => {
        if (!this.#leading) return;
        if (!willReconnect) this.#lastDown = { code, reason };
        this.#post({ t: 'down', code, reason, final: !willReconnect });
        if (!willReconnect) this.#hellos = [];
      }),
    ];
  }

  /** Leaves the group: releases the lock (another tab takes over) and the channel. */
  dispose(): void {
    for (const off of this.#offClient.splice(0)) off();
    this.#abort.abort();
    this.#releaseLock?.();
    this.#releaseLock = null;
    this.#virtual?.end(CloseCode.NORMAL, 'tab share closed');
    this.#channel.onmessage = null;
    this.#channel.close();
  }

  #create(url: string, protocols?: string | string[]): LeaderSocket | VirtualSocket {
    this.#leading = this.#role === 'leader';
    if (this.#leading) return new LeaderSocket(this.#Real, url, protocols, (data) => this.#relay(data));
    this.#virtual?.end(CloseCode.NORMAL, 'replaced');
    const socket = new VirtualSocket(url, this.#link);
    this.#virtual = socket;
    this.#sid += 1;
    if (this.#role === 'follower') queueMicrotask(() => socket.start());
    return socket;
  }

  readonly #link: VirtualLink = {
    hello: (socket) => {
      const since = parseSince(new URL(socket.url).searchParams.get('since') ?? '');
      this.#post({ t: 'hello', from: this.#id, sid: this.#sid, since: since.ok ? since.value : {} });
    },
    send: (_socket, data) => this.#post(data === 'ping' ? { t: 'ping', from: this.#id, sid: this.#sid } : { t: 'send', data }),
    closed: (socket) => {
      if (this.#virtual === socket) this.#virtual = null;
    },
  };

  #follow(): void {
    this.#role = 'follower';
    this.#virtual?.start();
  }

  #lead(): void {
    this.#role = 'leader';
    this.#post({ t: 'leader' });
    // The client reopens at once, now on a real socket, resuming from its own positions.
    this.#virtual?.end(CloseCode.GOING_AWAY, REOPEN_NOW);
  }

  #post(message: Message): void {
    try {
      this.#channel.postMessage(message);
    } catch {
      // channel closed
    }
  }

  /** Leader: a frame from the real socket, shared with the followers. */
  #relay(data: unknown): void {
    if (typeof data !== 'string' || data === 'pong') return;
    const type = this.#remember(data);
    if (type === 'connected') return; // each follower gets its own, positioned where it stands
    this.#post({ t: 'frame', data });
  }

  /** Keeps what a welcome needs: the last `connected`, persisted frames, latest progress. Returns the type. */
  #remember(data: string): string | undefined {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const { type, stream, offset } = message;
    if (type === 'connected') this.#connected = message;
    else if (type === 'transcode_progress') {
      if (TERMINAL_STATUSES.has(String(message.status))) this.#progress.delete(message.video_id);
      else this.#progress.set(message.video_id, data);
    } else if (typeof stream === 'string' && typeof offset === 'number' && !this.#ringKeys.has(`${stream}@${offset}`)) {
      this.#ring.push({ stream, offset, data });
      this.#ringKeys.add(`${stream}@${offset}`);
      if (this.#ring.length > RING_SIZE) {
        const old = this.#ring.shift()!;
        this.#ringKeys.delete(`${old.stream}@${old.offset}`);
      }
    }
    return typeof type === 'string' ? type : undefined;
  }

  #onMessage(message: Message): void {
    if (!message || typeof message !== 'object') return;
    switch (message.t) {
      case 'hello':
        if (this.#role !== 'leader') return;
        if (this.#client?.getState() === 'open') this.#welcome(message);
        else if (this.#client?.getState() === 'closed' && this.#lastDown) {
          this.#post({ t: 'down', ...this.#lastDown, final: true, to: message.from, sid: message.sid });
        } else this.#hellos.push(message);
        return;
      case 'send':
        if (this.#role === 'leader') this.#client?.send(message.data);
        return;
      case 'ping':
        if (this.#role === 'leader') this.#post({ t: 'pong', to: message.from, sid: message.sid });
        return;
      case 'leader':
        // A new leader: re-attach to it (a socket it never welcomed would wait forever).
        if (this.#role !== 'leader') this.#virtual?.end(CloseCode.GOING_AWAY, REOPEN_NOW);
        return;
      default:
        this.#onFollowerMessage(message);
    }
  }

  #onFollowerMessage(message: Message): void {
    if (this.#role === 'leader') return;
    const mine = (to: string, sid: number) => to === this.#id && sid === this.#sid;
    switch (message.t) {
      case 'frame':
        this.#remember(message.data);
        this.#virtual?.deliver(message.data);
        return;
      case 'welcome':
        if (!mine(message.to, message.sid)) return;
        for (const data of message.frames) this.#remember(data);
        this.#virtual?.open(message.frames);
        return;
      case 'pong':
        if (mine(message.to, message.sid)) this.#virtual?.deliver('pong');
        return;
      case 'down':
        if (message.to !== undefined && !mine(message.to, message.sid ?? -1)) return;
        if (message.final) this.#virtual?.end(message.code, message.reason);
        // The leader reconnects: an open follower reopens and waits for the leader's welcome.
        else if (this.#virtual?.readyState === 1) this.#virtual.end(CloseCode.GOING_AWAY, REOPEN_NOW);
        return;
    }
  }

  /** Leader: a `connected` at the follower's own positions, then what it lacks, then the progress in flight. */
  #welcome(hello: Hello): void {
    const client = this.#client;
    const connected = this.#connected;
    if (!client || !connected) return;
    const current = client.positions;
    const heads = (connected.streams ?? {}) as StreamPosition;
    const streams: StreamPosition = {};
    const frames: string[] = [];
    const gaps: string[] = [];
    for (const stream of Object.keys(heads)) {
      const at = hello.since[stream] ?? current[stream] ?? heads[stream];
      streams[stream] = at;
      const missed = this.#ring.filter((f) => f.stream === stream && f.offset > at).sort((a, b) => a.offset - b.offset);
      const head = current[stream] ?? at;
      const oldest = missed[0]?.offset ?? head + 1;
      if (head > at && oldest > at + 1) gaps.push(stream); // older than the ring: let the client refetch
      else for (const f of missed) frames.push(f.data);
    }
    const welcome = { ...connected, streams, unread_count: client.unreadCount, unread_positions: current };
    frames.unshift(JSON.stringify(welcome));
    if (gaps.length > 0) {
      const positions = Object.fromEntries(gaps.map((s) => [s, current[s] ?? 0]));
      frames.push(JSON.stringify({ type: 'resync_required', streams: gaps, reason: 'tab hand-over', positions, timestamp: new Date().toISOString() }));
    }
    frames.push(...this.#progress.values());
    this.#post({ t: 'welcome', to: hello.from, sid: hello.sid, frames });
  }
}
