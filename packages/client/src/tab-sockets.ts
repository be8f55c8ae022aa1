import { ReadyState, type WebSocketConstructor, type WebSocketLike } from './environment.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Handler = ((event: any) => void) | null;

/**
 * The leader tab's real socket, seen through a wrapper that hands every inbound frame to
 * `relay` (which shares it with the other tabs) before the client reads it.
 */
export class LeaderSocket implements WebSocketLike {
  onopen: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  onmessage: Handler = null;
  readonly #socket: WebSocketLike;

  constructor(Real: WebSocketConstructor, url: string, protocols: string | string[] | undefined, relay: (data: unknown) => void) {
    const socket = protocols === undefined ? new Real(url) : new Real(url, protocols);
    this.#socket = socket;
    socket.onopen = (event) => this.onopen?.(event);
    socket.onclose = (event) => this.onclose?.(event);
    socket.onerror = (event) => this.onerror?.(event);
    socket.onmessage = (event: { data: unknown }) => {
      relay(event.data);
      this.onmessage?.(event);
    };
  }

  get readyState(): number {
    return this.#socket.readyState;
  }

  get protocol(): string {
    return this.#socket.protocol;
  }

  send(data: string): void {
    this.#socket.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }
}

/** What a follower's virtual socket asks of the tab share. */
export interface VirtualLink {
  hello(socket: VirtualSocket): void;
  send(socket: VirtualSocket, data: string): void;
  closed(socket: VirtualSocket): void;
}

/**
 * A follower tab's socket: no network, frames come from the leader tab over the
 * BroadcastChannel. It opens when the leader welcomes it, and closes like a real socket
 * (with a close code the client acts on) when the leader goes away or is refused.
 */
export class VirtualSocket implements WebSocketLike {
  onopen: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  onmessage: Handler = null;
  readonly protocol = 'bearer';
  readonly url: string;
  #readyState: number = ReadyState.CONNECTING;
  readonly #link: VirtualLink;

  constructor(url: string, link: VirtualLink) {
    this.url = url;
    this.#link = link;
  }

  get readyState(): number {
    return this.#readyState;
  }

  /** Asks the leader for a welcome (called once this tab knows it follows). */
  start(): void {
    if (this.#readyState === ReadyState.CONNECTING) this.#link.hello(this);
  }

  /** The leader's welcome: opens, then delivers the frames that bring this tab up to date. */
  open(frames: readonly string[]): void {
    if (this.#readyState !== ReadyState.CONNECTING) return;
    this.#readyState = ReadyState.OPEN;
    this.onopen?.({});
    for (const data of frames) this.deliver(data);
  }

  deliver(data: string): void {
    if (this.#readyState === ReadyState.OPEN) this.onmessage?.({ data });
  }

  /** Closed from this side of the channel (leader gone, refused, or this tab now leads). */
  end(code: number, reason: string): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#readyState = ReadyState.CLOSED;
    this.#link.closed(this);
    this.onclose?.({ code, reason });
  }

  send(data: string): void {
    if (this.#readyState !== ReadyState.OPEN) throw new Error('VirtualSocket is not open');
    this.#link.send(this, data);
  }

  close(): void {
    if (this.#readyState === ReadyState.CLOSED) return;
    this.#readyState = ReadyState.CLOSED;
    this.#link.closed(this);
  }
}
