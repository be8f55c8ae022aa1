import { CloseCode, ErrorCode, PONG, errorMessage, parseClientMessage, statsMessage, type ConnectionStats, type ServerMessage } from '@herald/protocol';

/** Token bucket over inbound messages: `rate` per second, bursts up to `rate`. */
export class TokenBucket {
  readonly #rate: number;
  #tokens: number;
  #refilledAt = Date.now();

  constructor(rate: number) {
    this.#rate = rate;
    this.#tokens = rate;
  }

  /** Takes one token; false when the limit is exceeded. */
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** What inbound commands act on: the connection that received them. */
export interface CommandPeer {
  reply(message: ServerMessage): void;
  replyText(text: string): void;
  close(code: number, reason: string): void;
  stats(): Promise<ConnectionStats>;
  markRead(ids: number[] | 'all'): Promise<void>;
  /** In-band refresh: verifies a new token for this connection (answers `token_refreshed` or an error). */
  reauthenticate(token: string): Promise<void>;
}

/** One inbound frame: rate-limited, text only, then a command (never a crash or a silent close). */
export function handleFrame(peer: CommandPeer, bucket: TokenBucket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  if (!bucket.take()) {
    peer.close(CloseCode.RATE_LIMITED, 'too many messages; slow down');
    return;
  }
  if (isBinary) {
    peer.reply(errorMessage(ErrorCode.BINARY_NOT_SUPPORTED, 'binary frames are not supported; send text commands'));
    return;
  }
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
  handleCommand(peer, text);
}

/** Answers one text command: `ping`, `get_stats`, `mark_read`, `mark_all_read`, `auth`. */
export function handleCommand(peer: CommandPeer, text: string): void {
  const parsed = parseClientMessage(text);
  if (!parsed.ok) {
    peer.reply(errorMessage(parsed.code, parsed.error));
    return;
  }
  const command = parsed.value;
  switch (command.type) {
    case 'ping':
      peer.replyText(PONG);
      return;
    case 'get_stats':
      void peer.stats().then((stats) => peer.reply(statsMessage(stats)));
      return;
    case 'mark_read':
      void peer.markRead(command.ids);
      return;
    case 'mark_all_read':
      void peer.markRead('all');
      return;
    case 'auth':
      void peer.reauthenticate(command.token);
      return;
  }
}
