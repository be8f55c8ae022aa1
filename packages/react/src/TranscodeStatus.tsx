import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Progress, Space, Typography } from 'antd';
import type { HeraldClient, TranscodeProgressEntry } from '@herald/client';
import { TERMINAL_TRANSCODE_STATUSES } from '@herald/protocol';
import { useOptionalWebSocketContext } from './WebSocketContext.js';

/** What `GET /api/v1/videos/{id}/transcode-status` returns (fields the component reads). */
export interface TranscodeStatusInfo {
  job_id?: string | null;
  status: string;
  progress: number;
  message?: string;
}

export interface TranscodeStatusProps {
  videoId: number;
  /**
   * The job to follow (e.g. from the video list). Pushed progress of other jobs of the
   * video is ignored, and polling goes on until this job ends.
   */
  jobId?: string;
  /** Texts for statuses (`{ processing: '转码中' }`); the raw status otherwise. */
  statusLabels?: Partial<Record<string, string>>;
  /** Status fetcher for polling; default `GET /api/v1/videos/{id}/transcode-status` through the provider's client. */
  fetchStatus?: (videoId: number) => Promise<TranscodeStatusInfo>;
  /** Polling interval while disconnected, in ms (default 5000); 3× longer while connected. */
  pollInterval?: number;
  /** Custom rendering of the current status. */
  children?: (status: TranscodeStatusInfo | undefined) => ReactNode;
}

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_TRANSCODE_STATUSES);
/** While connected, pushed messages carry progress: poll 3× less often (the specification's 混合模式). */
const CONNECTED_POLL_FACTOR = 3;

function defaultFetcher(client: HeraldClient | null | undefined): ((id: number) => Promise<TranscodeStatusInfo>) | undefined {
  return client ? (id) => client.request<TranscodeStatusInfo>(`/api/v1/videos/${id}/transcode-status`) : undefined;
}

/**
 * Transcode progress of one video: live from pushed `transcode_progress` messages while
 * connected, polled over HTTP while disconnected (and, 3× less often, while connected as
 * a safety net). Use inside `<WebSocketProvider>`; outside it, it only polls `fetchStatus`.
 *
 * @example
 * <TranscodeStatus videoId={123} />
 */
export function TranscodeStatus({ videoId, jobId, statusLabels, fetchStatus, pollInterval = 5000, children }: TranscodeStatusProps): ReactNode {
  const context = useOptionalWebSocketContext();
  const isConnected = context?.isConnected ?? false;
  const entry: TranscodeProgressEntry | undefined = context?.transcodeProgress.get(videoId);
  const pushed = jobId !== undefined && entry?.job_id !== undefined && entry.job_id !== jobId ? undefined : entry;
  const [polled, setPolled] = useState<{ videoId: number; info: TranscodeStatusInfo } | undefined>(undefined);
  const fetcher = useRef(fetchStatus);
  fetcher.current = fetchStatus ?? defaultFetcher(context?.client);
  const canPoll = fetchStatus !== undefined || context?.client != null;
  const polledInfo = polled?.videoId === videoId && (jobId === undefined || !polled.info.job_id || polled.info.job_id === jobId) ? polled.info : undefined;
  const current: TranscodeStatusInfo | undefined = isConnected ? (pushed ?? polledInfo) : (polledInfo ?? pushed);
  const done = current !== undefined && TERMINAL.has(current.status);

  useEffect(() => {
    if (!canPoll || done) return undefined;
    let cancelled = false;
    const poll = (): void => {
      const fetch = fetcher.current;
      if (!fetch) return;
      fetch(videoId).then(
        (info) => {
          if (!cancelled) setPolled({ videoId, info });
        },
        () => {
          // a failed poll keeps the last known status; the next tick retries
        },
      );
    };
    poll();
    const timer = setInterval(poll, isConnected ? pollInterval * CONNECTED_POLL_FACTOR : pollInterval);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [videoId, jobId, isConnected, pollInterval, canPoll, done]);

  if (children) return children(current);
  if (!current) return <Typography.Text type="secondary">—</Typography.Text>;
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
