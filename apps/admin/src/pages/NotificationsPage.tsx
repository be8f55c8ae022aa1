import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { App, Badge, Button, Card, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import type { ServerMessage } from '@herald/protocol';
import { useWebSocketContext } from '@herald/react';
import { useAuth } from '../auth/AuthContext.js';
import type { InboxItem, Level } from '../api/types.js';
import { useI18n, type Lang, type Translate } from '../i18n/I18n.js';
import { formatBytes, formatTime } from '../i18n/format.js';
import { applyRead, levelOf, matches, mergeNewest, type InboxFilters } from './inbox.js';

const PAGE = 20;
const TYPES = ['system_message', 'transcode_complete', 'transcode_failed'] as const;
const LEVELS: Level[] = ['info', 'success', 'warning', 'error'];
// Solid tags, white text: at least 5.4:1 contrast (the pale preset tags fall short of 4.5:1).
const LEVEL_COLOR: Record<Level, string> = { info: '#0958d9', success: '#237804', warning: '#ad4e00', error: '#cf1322' };

/** The inbox: cursor pages, filters, read state; live notifications appear on top at once. */
export function NotificationsPage(): ReactNode {
  const { api } = useAuth();
  const { client, unreadCount } = useWebSocketContext();
  const { message } = App.useApp();
  const { t, lang } = useI18n();
  const [filters, setFilters] = useState<InboxFilters>({ unreadOnly: false, types: [], level: null });
  const [items, setItems] = useState<InboxItem[]>([]);
  const [cursor, setCursor] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);

  const load = useCallback(
    async (from?: number) => {
      const mine = from === undefined ? ++generation.current : generation.current;
      setLoading(true);
      try {
        const page = await api.inbox({
          cursor: from,
          limit: PAGE,
          unread: filters.unreadOnly || undefined,
          type: filters.types.join(',') || undefined,
        });
        if (mine !== generation.current) return; // filters changed meanwhile
        setItems((current) => (from === undefined ? page.items : mergeNewest(current, page.items)));
        setCursor(page.next_cursor);
      } catch (error) {
        message.error(t('error.generic', { message: (error as Error).message }));
      } finally {
        setLoading(false);
      }
    },
    [api, filters.unreadOnly, filters.types, message, t],
  );

  useEffect(() => {
    void load();
  }, [load]);

  // Live: persisted messages go on top; reads from any device update the flags; a resync reloads.
  useEffect(() => {
    if (!client) return undefined;
    const offs = [
      client.on('message', (m: ServerMessage) => {
        const item = toInboxItem(m);
        if (item) setItems((current) => mergeNewest(current, [item]));
      }),
      client.on('notifications_read', (m) => setItems((current) => applyRead(current, m.ids))),
      client.on('resync', () => void load()),
    ];
    return () => offs.forEach((off) => off());
  }, [client, load]);

  const markRead = async (id: number) => {
    try {
      await api.markRead(id);
      setItems((current) => applyRead(current, [id]));
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  const markAll = async () => {
    try {
      await api.markAllRead();
      setItems((current) => applyRead(current, 'all'));
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  const visible = items.filter((item) => matches(item, { ...filters, unreadOnly: false }));
  return (
    <Card
      title={
        <Space>
          {t('notifications.title')}
          <Typography.Text type="secondary" data-testid="unread-count">
            {t('notifications.unreadCount', { count: unreadCount })}
          </Typography.Text>
        </Space>
      }
      extra={
        <Button onClick={markAll} disabled={unreadCount === 0} data-testid="mark-all-read">
          {t('notifications.markAllRead')}
        </Button>
      }
    >
      <Space wrap style={{ marginBottom: 16 }}>
        <Space>
          <Switch checked={filters.unreadOnly} aria-label={t('notifications.unreadOnly')} onChange={(unreadOnly) => setFilters((f) => ({ ...f, unreadOnly }))} />
          {t('notifications.unreadOnly')}
        </Space>
        <Select
          mode="multiple"
          aria-label={t('notifications.type')}
          allowClear
          style={{ minWidth: 200, maxWidth: '100%' }}
          placeholder={`${t('notifications.type')}: ${t('notifications.all')}`}
          value={filters.types}
          onChange={(types) => setFilters((f) => ({ ...f, types }))}
          options={TYPES.map((type) => ({ value: type, label: t(`type.${type}`) }))}
        />
        <Select
          allowClear
          aria-label={t('notifications.level')}
          style={{ minWidth: 160, maxWidth: '100%' }}
          placeholder={`${t('notifications.level')}: ${t('notifications.all')}`}
          value={filters.level ?? undefined}
          onChange={(level?: Level) => setFilters((f) => ({ ...f, level: level ?? null }))}
          options={LEVELS.map((level) => ({ value: level, label: t(`level.${level}`) }))}
        />
      </Space>
      <Table<InboxItem>
        rowKey="id"
        size="middle"
        loading={loading}
        dataSource={visible}
        pagination={false}
        scroll={{ x: 'max-content' }}
        onRow={(item) => ({ 'data-testid': 'inbox-row', 'data-read': String(item.read) }) as never}
        columns={[
          {
            title: '',
            width: 24,
            render: (_, item) =>
              item.read ? null : (
                <span role="img" aria-label={t('notifications.unreadDot')}>
                  <Badge status="processing" />
                </span>
              ),
          },
          {
            // First after the unread dot: on a phone it shows without scrolling the table sideways.
            title: t('notifications.content'),
            render: (_, item) => (
              <div style={{ minWidth: 140, maxWidth: 480, overflowWrap: 'anywhere' }}>
                <Typography.Text strong={!item.read}>{content(item, t, lang)}</Typography.Text>
              </div>
            ),
          },
          { title: t('notifications.time'), width: 190, render: (_, item) => formatTime(item.timestamp, lang) },
          {
            title: t('notifications.type'),
            width: 220,
            render: (_, item) => (
              <Space size={4}>
                <Tag>{TYPES.includes(item.type as never) ? t(`type.${item.type as (typeof TYPES)[number]}`) : item.type}</Tag>
                <Tag color={LEVEL_COLOR[levelOf(item)]}>{t(`level.${levelOf(item)}`)}</Tag>
              </Space>
            ),
          },
          {
            title: '',
            width: 120,
            render: (_, item) =>
              item.read ? (
                <Typography.Text type="secondary">{t('notifications.read')}</Typography.Text>
              ) : (
                <Button size="small" onClick={() => void markRead(item.id)} data-testid="mark-read" title={t('notifications.markReadOne')}>
                  {t('notifications.markRead')}
                </Button>
              ),
          },
        ]}
      />
      {cursor !== null && (
        <Button style={{ marginTop: 16 }} block onClick={() => void load(cursor)} loading={loading}>
          {t('notifications.loadMore')}
        </Button>
      )}
    </Card>
  );
}

/** A live persisted message as an inbox entry (unread); `null` for anything else. */
function toInboxItem(m: ServerMessage): InboxItem | null {
  if (m.type !== 'system_message' && m.type !== 'transcode_complete' && m.type !== 'transcode_failed') return null;
  if (typeof m.id !== 'number') return null;
  return { ...(m as unknown as InboxItem), read: false };
}

function content(item: InboxItem, t: Translate, lang: Lang): string {
  switch (item.type) {
    case 'transcode_complete':
      return `${t('toast.completed', { title: item.title ?? '' })} · ${item.format_type ?? ''} · ${formatBytes(item.file_size, lang)}`;
    case 'transcode_failed':
      return `${t('toast.failed', { title: item.title ?? '' })} · ${item.error ?? ''}`;
    default:
      return item.message ?? '';
  }
}
