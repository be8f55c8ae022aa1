import type { ReactNode } from 'react';
import { Progress, Space, Typography } from 'antd';
import { useTranscodeStatus, type TranscodeStatusInfo, type TranscodeStatusOptions } from '../useTranscodeStatus.js';
import type { HeraldLocale } from '../WebSocketContext.js';

const EN_STATUS: Record<string, string> = {
  pending: 'Pending',
  queued: 'Queued',
  processing: 'Transcoding',
  retrying: 'Retrying',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What the bar says under it in English: the structured fields, never the Chinese `message`. */
function englishDetail(info: TranscodeStatusInfo & Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof info.format === 'string' && typeof info.step === 'number' && typeof info.steps === 'number') parts.push(`${info.format} (${info.step}/${info.steps})`);
  if (Array.isArray(info.skipped) && info.skipped.length > 0) parts.push(`skipped: ${info.skipped.join(', ')}, source is ${String(info.source_width)}×${String(info.source_height)}`);
  return parts.join(' · ');
}

export interface TranscodeStatusProps extends TranscodeStatusOptions {
  videoId: number;
  /**
   * Language of the built-in texts. Default `'zh'`, as in the specification: the raw status and
   * the server's (Chinese) message. `'en'`: English status words and the progress's structured
   * fields (format, step/steps, skipped presets) instead of the message.
   */
  locale?: HeraldLocale;
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
export function TranscodeStatus({ videoId, locale = 'zh', statusLabels, children, ...options }: TranscodeStatusProps): ReactNode {
  const { status: current, error } = useTranscodeStatus(videoId, options);
  if (children) return children(current);
  if (!current) {
    return error ? (
      <Typography.Text type="danger" data-video-id={videoId} data-error={error.code} title={error.message}>
        {locale === 'en' ? 'Not authorized' : '未授权'}
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
        {statusLabels?.[current.status] ?? (locale === 'en' ? (EN_STATUS[current.status] ?? current.status) : current.status)}
        {detailOf(current, locale)}
      </Typography.Text>
    </Space>
  );
}

function detailOf(current: TranscodeStatusInfo, locale: HeraldLocale): string {
  const detail = locale === 'en' ? englishDetail(current as TranscodeStatusInfo & Record<string, unknown>) : (current.message ?? '');
  return detail ? `: ${detail}` : '';
}

export default TranscodeStatus;
