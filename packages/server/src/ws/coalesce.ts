import { MessageType } from '@herald/protocol';
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

/**
 * Messages without a position for one connection. A slow consumer (a quarter of its send
 * buffer waiting) gets the latest progress of each job, not a queue of stale ticks; while
 * ticks wait, later ephemeral messages wait behind them so order is kept.
 */
export class ProgressCoalescer {
  readonly #ws: WebSocket;
  readonly #outlet: ProgressOutlet;
  readonly #thresholdBytes: number;
  #waiting = new Map<string, Payload>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, outlet: ProgressOutlet, sendBufferBytes: number) {
    this.#ws = ws;
    this.#outlet = outlet;
    this.#thresholdBytes = sendBufferBytes / 4;
  }

  offer(data: Payload, meta: WireMeta): void {
    if (meta.type !== MessageType.TRANSCODE_PROGRESS || this.#ws.bufferedAmount < this.#thresholdBytes) {
      if (this.#waiting.size === 0) this.#outlet.send(data, meta.type);
      else this.#coalesce(data, meta);
      return;
    }
    this.#coalesce(data, meta);
  }

  #coalesce(data: Payload, meta: WireMeta): void {
    const key = meta.job_id ?? `video:${meta.video_id}`;
    this.#waiting.delete(key);
    this.#waiting.set(key, data);
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
    for (const data of items.values()) this.#outlet.send(data, MessageType.TRANSCODE_PROGRESS);
  }

  clear(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#waiting.clear();
  }
}
