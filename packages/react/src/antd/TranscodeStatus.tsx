import type { ReactNode } from 'react';
import { Progress, Space, Typography } from 'antd';
import { useTranscodeStatus, type TranscodeStatusInfo, type TranscodeStatusOptions } from '../useTranscodeStatus.js';

export interface TranscodeStatusProps extends TranscodeStatusOptions {
  videoId: number;
  /** Texts for statuses (`{ processing: '转码中' }`); the raw status otherwise. */
  statusLabels?: Partial<Record<string, string>>;
  /** Custom rendering of the current status. */
  children?: (status: TranscodeStatusInfo | undefined) => ReactNode;
}

/**
 * Transcode progress of one video as an Ant Design progress bar: live from pushed
 * `transcode_progress` messages while connected, polled over HTTP while disconnected
 * (and, 3× less often, while connected). Polling stops on 401 and says so.
 *
 * @example
 * <TranscodeStatus videoId={123} />
 */
export function TranscodeStatus({ videoId, statusLabels, children, ...options }: TranscodeStatusProps): ReactNode {
  const { status: current, error } = useTranscodeStatus(videoId, options);
  if (children) return children(current);
  if (!current) {
    return error ? (
      <Typography.Text type="danger" data-video-id={videoId} data-error={error.code} title={error.message}>
        未授权
      </Typography.Text>
    ) : (
      <Typography.Text type="secondary">—</Typography.Text>
    );
  }
  const status = current.status === 'failed' ? 'exception' : current.status === 'completed' ? 'success' : 'active';
  return (
    <Space direction="vertical" size={0} style={{ width: '100%' }} data-video-id={videoId} data-status={current.status}>
      <Progress percent={Math.round(current.progress)} status={status} size="small" />
      <Typography.Text type="secondary">
        {statusLabels?.[current.status] ?? current.status}
        {current.message ? `: ${current.message}` : ''}
      </Typography.Text>
    </Space>
  );
}

export default TranscodeStatus;
