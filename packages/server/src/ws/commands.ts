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
  /** Closes once every command accepted before is answered (a rate-limit close drops none of them). */
  closeWhenAnswered(code: number, reason: string): void;
  stats(): Promise<ConnectionStats>;
  markRead(ids: number[] | 'all'): Promise<void>;
  /** In-band refresh: verifies a new token for this connection (answers `token_refreshed` or an error). */
  reauthenticate(token: string): Promise<void>;
}

/**
 * One inbound frame: rate-limited, text only, then a command (never a crash or a silent close).
 * Returns the pending answer of a command answered later (`get_stats`, `mark_read`).
 */
export function handleFrame(peer: CommandPeer, bucket: TokenBucket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): Promise<void> | undefined {
  if (!bucket.take()) {
    peer.closeWhenAnswered(CloseCode.RATE_LIMITED, 'too many messages; slow down');
    return;
  }
  if (isBinary) {
    peer.reply(errorMessage(ErrorCode.BINARY_NOT_SUPPORTED, 'binary frames are not supported; send text commands'));
    return;
  }
  const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
  return handleCommand(peer, text);
}

/** Answers one text command: `ping`, `get_stats`, `mark_read`, `mark_all_read`, `auth`. */
export function handleCommand(peer: CommandPeer, text: string): Promise<void> | undefined {
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
      return peer.stats().then(
        (stats) => peer.reply(statsMessage(stats)),
        () => peer.reply(errorMessage(ErrorCode.UNAVAILABLE, 'statistics unavailable; try again')),
      );
    case 'mark_read':
      return peer.markRead(command.ids);
    case 'mark_all_read':
      return peer.markRead('all');
    case 'auth':
      return peer.reauthenticate(command.token);
  }
}
