import type { ReactNode } from 'react';
import { Progress, Space, Tag, Typography } from 'antd';
import type { TranscodeStatusInfo } from '@herald/react';
import { useI18n } from '../i18n/I18n.js';
import { progressText, skippedText, statusLabel, type ProgressFields } from '../live/describe.js';

/** How the videos page renders one job's status (live or polled) from `<TranscodeStatus>`, in the console's language. */
export function TranscodeProgress({ status }: { status: TranscodeStatusInfo | undefined }): ReactNode {
  const { t } = useI18n();
  if (!status) return <Typography.Text type="secondary">—</Typography.Text>;
  if (status.status === 'cancelled') return <Tag data-status={status.status}>{statusLabel(status.status, t)}</Tag>;
  const bar = status.status === 'failed' ? 'exception' : status.status === 'completed' ? 'success' : 'active';
  return (
    <Space direction="vertical" size={0} style={{ width: '100%' }} data-status={status.status}>
      <Progress percent={Math.round(status.progress)} status={bar} size="small" aria-label={statusLabel(status.status, t)} />
      <Typography.Text type="secondary">{status.status === 'completed' ? [statusLabel(status.status, t), skippedText(status as ProgressFields, t)].filter(Boolean).join(' · ') : progressText(status as ProgressFields, t)}</Typography.Text>
    </Space>
  );
}
