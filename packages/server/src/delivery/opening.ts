import {
  ErrorCode,
  connectedMessage,
  errorMessage,
  parseSince,
  resumedMessage,
  resyncRequiredMessage,
  type ConnectionStats,
  type ServerMessage,
  type StreamName,
  type StreamPosition,
  type TranscodeProgressMessage,
} from '@herald/protocol';

/** Head (last offset) and pruned-below offset of each stream, read once the connection listens. */
export type Heads = Record<string, { head: number; pruned: number }>;

/** Everything the opening of a session needs, read by the caller before it starts. */
export interface Opening {
  /** The raw `since` query parameter; null when the client sent none. */
  since: string | null;
  heads: Heads;
  /** Who connected, for the `connected` message. */
  greeting: {
    /** The public user id (a string with platform tokens, the integer otherwise). */
    userId: string;
    username: string;
    /** Connected on the admin endpoint. */
    admin: boolean;
    stats: ConnectionStats;
    unread: { count: number; positions: StreamPosition };
    nodeId: string;
  };
  /** Progress of the transcode jobs in flight that this connection may see. */
  snapshot: readonly TranscodeProgressMessage[];
}

export interface OpeningPlan {
  /** Where each stream starts: the client's position, or the head. */
  positions: Map<string, number>;
  /** What goes out before the replay: `connected`, `since` errors, the snapshot, `resync_required`. */
  messages: ServerMessage[];
}

/**
 * The one server-side check of `since`: protocol's `parseSince`, then only streams this
 * connection reads. Every problem is named; the usable positions are kept.
 */
export function checkSince(raw: string | null, streams: readonly StreamName[]): { since: StreamPosition | undefined; problems: string[] } {
  if (raw === null) return { since: undefined, problems: [] };
  const parsed = parseSince(raw);
  if (!parsed.ok) return { since: undefined, problems: [parsed.error] };
  const since: StreamPosition = {};
  const problems: string[] = [];
  for (const [stream, offset] of Object.entries(parsed.value)) {
    if ((streams as readonly string[]).includes(stream)) since[stream] = offset;
    else problems.push(`since names ${stream}, which this connection does not read`);
  }
  return { since, problems };
}

/**
 * Start positions from `since` and the heads, and the messages that open the session:
 * a stream asked from beyond its head starts at the head (an error says so), one asked from
 * before its retention window starts at the head too (`resync_required` says so).
 */
export function planOpening(streams: readonly StreamName[], opening: Opening): OpeningPlan {
  const { since, problems } = checkSince(opening.since, streams);
  const positions = new Map<string, number>();
  const resync: StreamName[] = [];
  for (const stream of streams) {
    const { head, pruned } = opening.heads[stream] ?? { head: 0, pruned: 0 };
    const asked = since?.[stream];
    if (asked === undefined) positions.set(stream, head);
    else if (asked > head) {
      problems.push(`since for ${stream} is ${asked} but the stream is at ${head}`);
      positions.set(stream, head);
    } else if (asked < pruned) {
      resync.push(stream);
      positions.set(stream, head);
    } else positions.set(stream, asked);
  }
  const at = Object.fromEntries(positions);
  // `connected` is always the first frame; the `since` problems follow it.
  const messages: ServerMessage[] = [greetingMessage(opening.greeting, at)];
  for (const problem of problems) messages.push(errorMessage(ErrorCode.INVALID_SINCE, problem));
  messages.push(...opening.snapshot);
  if (resync.length > 0) {
    messages.push(resyncRequiredMessage(resync, 'positions are older than the retention window; fetch the inbox over HTTP', at));
  }
  return { positions, messages };
}

function greetingMessage(greeting: Opening['greeting'], streams: StreamPosition): ServerMessage {
  const { userId, username, admin, stats, unread, nodeId } = greeting;
  return connectedMessage({
    message: admin ? `管理员 ${username} 已连接` : `用户 ${username} 已连接`,
    ...(admin ? { admin_id: userId } : { user_id: userId }),
    connection_stats: stats,
    unread_count: unread.count,
    unread_positions: unread.positions,
    node_id: nodeId,
    streams,
  });
}

/** The last opening message: the replay is over, live messages follow. */
export function resumed(positions: StreamPosition, replayed: number): ServerMessage {
  return resumedMessage(positions, replayed);
}
