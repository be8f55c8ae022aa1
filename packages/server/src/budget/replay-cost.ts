import type { StreamName } from '@herald/protocol';
import { checkSince, type Heads } from '../delivery/index.js';

/**
 * The rows a resume will replay: for each stream the connection reads and `since` names
 * within its retention window, head − position. Read before any row is, so an over-budget
 * resume costs nothing.
 */
export function replayCost(streams: readonly StreamName[], since: string | null, heads: Heads): number {
  const asked = checkSince(since, streams).since ?? {};
  let rows = 0;
  for (const stream of streams) {
    const position = asked[stream];
    const { head, pruned } = heads[stream] ?? { head: 0, pruned: 0 };
    if (position !== undefined && position >= pruned && position < head) rows += head - position;
  }
  return rows;
}
