import type { ReactNode } from 'react';
import { Progress, Space, Tag, Typography } from 'antd';
import type { TranscodeStatusInfo } from '@herald/react';
import type { VideoStatus } from '../api/types.js';
import { useI18n } from '../i18n/I18n.js';

const KNOWN: readonly VideoStatus[] = ['uploaded', 'queued', 'processing', 'retrying', 'completed', 'failed', 'cancelled'];

/** How the videos page renders one job's status (live or polled) from `<TranscodeStatus>`, in the console's language. */
export function TranscodeProgress({ status }: { status: TranscodeStatusInfo | undefined }): ReactNode {
  const { t } = useI18n();
  if (!status) return <Typography.Text type="secondary">—</Typography.Text>;
  const label = KNOWN.includes(status.status as VideoStatus) ? t(`videoStatus.${status.status as VideoStatus}`) : status.status;
  if (status.status === 'cancelled') return <Tag data-status={status.status}>{label}</Tag>;
  const bar = status.status === 'failed' ? 'exception' : status.status === 'completed' ? 'success' : 'active';
  return (
    <Space direction="vertical" size={0} style={{ width: '100%' }} data-status={status.status}>
      <Progress percent={Math.round(status.progress)} status={bar} size="small" />
      <Typography.Text type="secondary">
        {label}
        {status.message && status.status !== 'completed' ? ` · ${status.message}` : ''}
      </Typography.Text>
    </Space>
  );
}
