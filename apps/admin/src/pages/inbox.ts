import type { InboxItem, Level } from '../api/types.js';

export interface InboxFilters {
  unreadOnly: boolean;
  types: string[];
  level: Level | null;
}

/** The level an entry is shown and filtered with: its own, or the one its type implies. */
export function levelOf(item: Pick<InboxItem, 'type' | 'level'>): Level {
  if (item.level) return item.level;
  return item.type === 'transcode_failed' ? 'error' : item.type === 'transcode_complete' ? 'success' : 'info';
}

/** The API filters by type and read state; level is filtered here. */
export function matches(item: InboxItem, filters: InboxFilters): boolean {
  if (filters.unreadOnly && item.read) return false;
  if (filters.types.length > 0 && !filters.types.includes(item.type)) return false;
  return filters.level === null || levelOf(item) === filters.level;
}

/** Adds live entries on top, newest first, without duplicating ones a page already brought. */
export function mergeNewest(current: readonly InboxItem[], incoming: readonly InboxItem[]): InboxItem[] {
  const seen = new Set(current.map((item) => item.id));
  const fresh = incoming.filter((item) => !seen.has(item.id));
  return [...fresh, ...current].sort((a, b) => b.id - a.id);
}

/** Applies a `notifications_read` (ids or "all") to the loaded entries. */
export function applyRead(items: readonly InboxItem[], ids: readonly number[] | 'all'): InboxItem[] {
  const set = ids === 'all' ? null : new Set(ids);
  return items.map((item) => (!item.read && (set === null || set.has(item.id)) ? { ...item, read: true } : item));
}
