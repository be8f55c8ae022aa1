import type { ServerMessage } from '@herald/protocol';
import type { Lang, Translate } from '../i18n/I18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { formatBytes } from '../i18n/format.js';

const STATUSES = ['uploaded', 'queued', 'processing', 'retrying', 'completed', 'failed', 'cancelled'] as const;
const TYPES = ['connected', 'transcode_progress', 'transcode_complete', 'transcode_failed', 'system_message', 'stats', 'error', 'resumed', 'resync_required', 'notifications_read'] as const;

/** A message type as words in the console's language (an unknown custom type stays as sent). */
export function typeLabel(type: string, t: Translate): string {
  return (TYPES as readonly string[]).includes(type) ? t(`type.${type}` as MessageKey) : type;
}

export function statusLabel(status: string, t: Translate): string {
  if (status === 'pending') return t('videoStatus.queued');
  return (STATUSES as readonly string[]).includes(status) ? t(`videoStatus.${status}` as MessageKey) : status;
}

/** What a transcode progress event may carry besides the specification's Chinese `message`. */
export interface ProgressFields {
  status: string;
  progress: number;
  format?: unknown;
  step?: unknown;
  steps?: unknown;
  skipped?: unknown;
  source_width?: unknown;
  source_height?: unknown;
}

/** "skipped: 1080p, source is 640×360" when the job skipped presets above its source, else ''. */
export function skippedText(p: ProgressFields, t: Translate): string {
  if (!Array.isArray(p.skipped) || p.skipped.length === 0) return '';
  return t('progress.skipped', { formats: p.skipped.join(', '), width: Number(p.source_width), height: Number(p.source_height) });
}

/**
 * A progress line in the console's language: from the structured `format`/`step`/`steps`
 * fields when the server sends them, else from `status` and `progress` alone (the
 * server's `message` is Chinese by specification and is never shown as is).
 */
export function progressText(p: ProgressFields, t: Translate): string {
  const status = statusLabel(p.status, t);
  const skipped = skippedText(p, t);
  const text =
    typeof p.format === 'string' && typeof p.step === 'number' && typeof p.steps === 'number'
      ? t('progress.step', { status, format: p.format, step: p.step, steps: p.steps })
      : t('progress.percent', { status, percent: Math.round(p.progress) });
  return skipped ? `${text} · ${skipped}` : text;
}

/** One line of the live feed, in the console's language; user content (messages, titles) as sent. */
export function describeMessage(m: ServerMessage, t: Translate, lang: Lang): string {
  switch (m.type) {
    case 'system_message':
      return `[${t(`level.${m.level}`)}] ${m.message}`;
    case 'transcode_progress':
      return `#${m.video_id} ${progressText(m, t)}`;
    case 'transcode_complete':
      return `#${m.video_id} ${m.title} → ${m.format_type} (${formatBytes(m.file_size, lang)})`;
    case 'transcode_failed':
      return `#${m.video_id} ${m.title}: ${m.error}`;
    case 'connected':
      return t('feed.connected', { node: m.node_id ?? '—', count: m.connection_stats?.total_connections ?? 0 });
    case 'resumed':
      return t('feed.resumed', { count: m.replayed });
    case 'notifications_read':
      return Array.isArray(m.ids) ? t('feed.read', { ids: m.ids.join(', '), unread: m.unread_count }) : t('feed.readAll', { unread: m.unread_count });
    case 'resync_required':
      return t('feed.resync');
    case 'error':
      return t('feed.error', { code: m.code });
    default:
      return '';
  }
}

/** Why the server closed the connection, for close codes that need the user to know (4001, 4003, 4009). */
export function refusalText(code: number, reason: string, t: Translate, origin: string): string | null {
  if (code === 4003) return /origin/i.test(reason) ? t('refused.origin', { origin, code }) : t('refused.forbidden', { code });
  if (code === 4001) return t('refused.auth', { code });
  if (code === 4009) return t('refused.tooMany', { code });
  return null;
}
