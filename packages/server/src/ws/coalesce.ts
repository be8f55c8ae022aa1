import { MessageType, isCustomEventType } from '@herald/protocol';
import type { WebSocket } from 'ws';
import type { WireMeta } from '../notifications/index.js';
import type { Payload } from './frames.js';

const COALESCE_FLUSH_MS = 50;

/** Where coalesced progress goes once the socket drains. */
export interface ProgressOutlet {
  /** False once the connection is closing or closed. */
  readonly open: boolean;
  send(data: Payload, type: string): void;
}

/** Progress, and custom events sent with `"persist": false` (no position): only their latest matters. */
const conflatable = (meta: WireMeta): boolean =>
  meta.type === MessageType.TRANSCODE_PROGRESS || (meta.offset === undefined && isCustomEventType(meta.type));

/**
 * Messages without a position for one connection. A slow consumer (a quarter of its send
 * buffer waiting) gets the latest progress of each job, not a queue of stale ticks; while
 * ticks wait, later ephemeral messages wait behind them so order is kept.
 */
export class ProgressCoalescer {
  readonly #ws: WebSocket;
  readonly #outlet: ProgressOutlet;
  readonly #thresholdBytes: number;
  #waiting = new Map<string, { data: Payload; type: string }>();
  #flushTimer: NodeJS.Timeout | undefined;
  #seq = 0;

  constructor(ws: WebSocket, outlet: ProgressOutlet, sendBufferBytes: number) {
    this.#ws = ws;
    this.#outlet = outlet;
    this.#thresholdBytes = sendBufferBytes / 4;
  }

  offer(data: Payload, meta: WireMeta): void {
    if (!conflatable(meta) || this.#ws.bufferedAmount < this.#thresholdBytes) {
      if (this.#waiting.size === 0) this.#outlet.send(data, meta.type);
      else this.#coalesce(data, meta);
      return;
    }
    this.#coalesce(data, meta);
  }

  #coalesce(data: Payload, meta: WireMeta): void {
    // Progress: the latest per job; an ephemeral custom event: the latest of its type; anything else keeps its place.
    const key = meta.type === MessageType.TRANSCODE_PROGRESS ? (meta.job_id ?? `video:${meta.video_id}`) : conflatable(meta) ? `event:${meta.type}` : `once:${this.#seq++}`;
    this.#waiting.delete(key);
    this.#waiting.set(key, { data, type: meta.type });
    this.#flushTimer ??= setTimeout(() => this.#flush(), COALESCE_FLUSH_MS);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    if (!this.#outlet.open) return;
    if (this.#ws.bufferedAmount >= this.#thresholdBytes) {
      this.#flushTimer = setTimeout(() => this.#flush(), COALESCE_FLUSH_MS);
      return;
    }
    const items = this.#waiting;
    this.#waiting = new Map();
    for (const { data, type } of items.values()) this.#outlet.send(data, type);
  }

  clear(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#waiting.clear();
  }
}
