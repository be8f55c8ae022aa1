import { useEffect, useRef, useState } from 'react';
import { ClientErrorCode, HeraldClientError, type HeraldClient, type TranscodeProgressEntry } from '@herald/client';
import { TERMINAL_TRANSCODE_STATUSES } from '@herald/protocol';
import { useOptionalWebSocketContext } from './WebSocketContext.js';

/** What `GET /api/v1/videos/{id}/transcode-status` returns (fields the component reads). */
export interface TranscodeStatusInfo {
  job_id?: string | null;
  status: string;
  progress: number;
  message?: string;
}

export interface TranscodeStatusOptions {
  /**
   * The job to follow (e.g. from the video list). Pushed progress of other jobs of the
   * video is ignored, and polling goes on until this job ends.
   */
  jobId?: string;
  /** Status fetcher for polling; default `GET /api/v1/videos/{id}/transcode-status` through the provider's client. */
  fetchStatus?: (videoId: number) => Promise<TranscodeStatusInfo>;
  /** Polling interval while disconnected, in ms (default 5000); 3× longer while connected. */
  pollInterval?: number;
}

export interface TranscodeStatusState {
  /** The current status: pushed while connected, polled otherwise; `undefined` before any. */
  status: TranscodeStatusInfo | undefined;
  /**
   * Why polling stopped: the server answered 401 (or there is no token). Polling does not
   * loop on it; it starts again when the connection comes back.
   */
  error: HeraldClientError | null;
}

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_TRANSCODE_STATUSES);
/** While connected, pushed messages carry progress: poll 3× less often (the specification's 混合模式). */
export const CONNECTED_POLL_FACTOR = 3;

function defaultFetcher(client: HeraldClient | null | undefined): ((id: number) => Promise<TranscodeStatusInfo>) | undefined {
  return client ? (id) => client.request<TranscodeStatusInfo>(`/api/v1/videos/${id}/transcode-status`) : undefined;
}

function isUnauthorized(error: unknown): error is HeraldClientError {
  return error instanceof HeraldClientError && (error.status === 401 || error.code === ClientErrorCode.NO_TOKEN);
}

/**
 * Transcode progress of one video, without any UI: live from pushed `transcode_progress`
 * messages while connected, polled over HTTP while disconnected (and, 3× less often,
 * while connected as a safety net). Polling stops on 401. Use inside `<WebSocketProvider>`;
 * outside it, it only polls `fetchStatus`.
 *
 * @example
 * const { status, error } = useTranscodeStatus(123);
 */
export function useTranscodeStatus(videoId: number, { jobId, fetchStatus, pollInterval = 5000 }: TranscodeStatusOptions = {}): TranscodeStatusState {
  const context = useOptionalWebSocketContext();
  const isConnected = context?.isConnected ?? false;
  const entry: TranscodeProgressEntry | undefined = context?.transcodeProgress.get(videoId);
  const pushed = jobId !== undefined && entry?.job_id !== undefined && entry.job_id !== jobId ? undefined : entry;
  const [polled, setPolled] = useState<{ videoId: number; info: TranscodeStatusInfo } | undefined>(undefined);
  const [refused, setRefused] = useState<{ videoId: number; error: HeraldClientError } | undefined>(undefined);
  const fetcher = useRef(fetchStatus);
  fetcher.current = fetchStatus ?? defaultFetcher(context?.client);
  const canPoll = fetchStatus !== undefined || context?.client != null;
  const polledInfo = polled?.videoId === videoId && (jobId === undefined || !polled.info.job_id || polled.info.job_id === jobId) ? polled.info : undefined;
  const current: TranscodeStatusInfo | undefined = isConnected ? (pushed ?? polledInfo) : (polledInfo ?? pushed);
  const done = current !== undefined && TERMINAL.has(current.status);
  const error = refused?.videoId === videoId && !isConnected ? refused.error : null;

  useEffect(() => {
    if (!canPoll || done || error) return undefined;
    let cancelled = false;
    let timer: ReturnType<typeof setInterval> | undefined;
    const poll = (): void => {
      const fetch = fetcher.current;
      if (!fetch) return;
      fetch(videoId).then(
        (info) => {
          if (!cancelled) setPolled({ videoId, info });
        },
        (cause: unknown) => {
          if (cancelled || !isUnauthorized(cause)) return; // other failures keep the last status; the next tick retries
          clearInterval(timer);
          setRefused({ videoId, error: cause });
        },
      );
    };
    poll();
    timer = setInterval(poll, isConnected ? pollInterval * CONNECTED_POLL_FACTOR : pollInterval);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [videoId, jobId, isConnected, pollInterval, canPoll, done, error]);

  return { status: current, error };
}
