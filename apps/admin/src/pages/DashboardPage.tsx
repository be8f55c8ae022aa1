import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Button, Card, Col, List, Row, Space, Statistic, Table, Tag, Typography } from 'antd';
import { ReloadOutlined } from '../icons.js';
import { useWebSocketContext } from '@herald/react';
import { useAuth } from '../auth/AuthContext.js';
import type { ConnectionStats, StatsByNode } from '../api/types.js';
import { usePolling } from '../hooks/usePolling.js';
import { useI18n } from '../i18n/I18n.js';
import { formatTime } from '../i18n/format.js';
import { describeMessage, typeLabel } from '../live/describe.js';
import { useEventLog } from '../live/EventLog.js';

const POLL_MS = 5000;

/** Live connection statistics (cluster-wide and per node) and the latest events. */
export function DashboardPage(): ReactNode {
  const { api } = useAuth();
  const { client } = useWebSocketContext();
  const { t, lang } = useI18n();
  const [stats, setStats] = useState<StatsByNode | null>(null);
  const [updatedAt, setUpdatedAt] = useState<string | null>(null);
  const events = useEventLog();

  const load = () => {
    api.stats().then(
      (next) => {
        setStats(next);
        setUpdatedAt(new Date().toISOString());
      },
      () => undefined, // the next poll retries; the header shows whether the server is there
    );
  };
  usePolling(load, POLL_MS);
  const latestLoad = useRef(load);
  latestLoad.current = load;

  // Answers to `get_stats` (and the stats in `connected`) update the totals at once.
  useEffect(() => {
    if (!client) return undefined;
    const apply = (totals: ConnectionStats) => {
      setStats((current) => ({ ...current, ...totals }));
      setUpdatedAt(new Date().toISOString());
      latestLoad.current(); // the per-node figures only come over HTTP
    };
    const offStats = client.on('stats', (m) => apply(m.connection_stats));
    const offConnected = client.on('connected', (m) => apply(m.connection_stats));
    return () => {
      offStats();
      offConnected();
    };
  }, [client]);

  const refresh = () => {
    client?.send('get_stats');
    load();
  };

  const nodes = Object.entries(stats?.nodes ?? {}).map(([node, s]) => ({ node, ...s }));
  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Row gutter={[16, 16]}>
        {(
          [
            ['total_connections', 'dashboard.totalConnections'],
            ['total_users', 'dashboard.users'],
            ['total_user_connections', 'dashboard.userConnections'],
            ['total_admin_connections', 'dashboard.adminConnections'],
          ] as const
        ).map(([field, label]) => (
          <Col xs={12} lg={6} key={field}>
            <Card>
              <Statistic title={t(label)} value={stats?.[field] ?? '—'} data-testid={`stat-${field}`} />
            </Card>
          </Col>
        ))}
      </Row>
      <Card
        title={t('dashboard.nodes')}
        extra={
          <Button icon={<ReloadOutlined />} onClick={refresh}>
            {t('dashboard.refresh')}
          </Button>
        }
      >
        {updatedAt && (
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {t('dashboard.updated', { time: formatTime(updatedAt, lang) })}
          </Typography.Paragraph>
        )}
        <Table
          size="small"
          rowKey="node"
          pagination={false}
          scroll={{ x: 'max-content' }}
          dataSource={nodes}
          columns={[
            { title: t('dashboard.node'), dataIndex: 'node' },
            { title: t('dashboard.totalConnections'), dataIndex: 'total_connections' },
            { title: t('dashboard.users'), dataIndex: 'total_users' },
            { title: t('dashboard.userConnections'), dataIndex: 'total_user_connections' },
            { title: t('dashboard.adminConnections'), dataIndex: 'total_admin_connections' },
          ]}
        />
      </Card>
      <Card title={t('dashboard.feed')}>
        <List
          size="small"
          locale={{ emptyText: t('dashboard.feedEmpty') }}
          dataSource={[...events]}
          rowKey="seq"
          renderItem={(event) => (
            <List.Item data-testid="feed-item">
              <Space wrap size={[8, 0]}>
                <Typography.Text type="secondary">{formatTime(event.message.timestamp ?? event.at, lang)}</Typography.Text>
                <Tag>{typeLabel(event.message.type, t)}</Tag>
                <span style={{ overflowWrap: 'anywhere' }}>{describeMessage(event.message, t, lang)}</span>
              </Space>
            </List.Item>
          )}
        />
      </Card>
    </Space>
  );
}
