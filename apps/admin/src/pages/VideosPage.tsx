import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Alert, App, Button, Card, Space, Table, Tag, Typography, Upload } from 'antd';
import { StopOutlined, ThunderboltOutlined, UploadOutlined } from '../icons.js';
import { useWebSocketContext } from '@herald/react';
import { TranscodeStatus } from '@herald/react/antd';
import { useAuth } from '../auth/AuthContext.js';
import type { Preset, Video } from '../api/types.js';
import { usePolling } from '../hooks/usePolling.js';
import { useI18n } from '../i18n/I18n.js';
import { formatBytes, formatDuration } from '../i18n/format.js';
import { TranscodeDialog } from './TranscodeDialog.js';
import { TranscodeProgress } from './TranscodeProgress.js';

const ACTIVE = new Set(['queued', 'processing', 'retrying']);
const LIST_POLL_MS = 10_000;

/** Upload videos, start and cancel transcodes, watch progress live, see results. */
export function VideosPage(): ReactNode {
  const { api } = useAuth();
  const { client } = useWebSocketContext();
  const { t, lang } = useI18n();
  const { message } = App.useApp();
  const [videos, setVideos] = useState<Video[]>([]);
  const [presets, setPresets] = useState<Preset[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [uploading, setUploading] = useState(false);
  const [dialogFor, setDialogFor] = useState<Video | null>(null);

  const load = useCallback(async () => {
    try {
      setVideos(await api.videos());
      setLoadError(null);
    } catch (error) {
      setLoadError((error as Error).message);
    }
  }, [api]);

  useEffect(() => {
    api.presets().then(setPresets, () => undefined);
  }, [api]);

  // The list's own status and results: reloaded when a job ends, and now and then while one runs.
  usePolling(() => void load(), LIST_POLL_MS);
  useEffect(() => {
    if (!client) return undefined;
    const reload = () => void load();
    const offs = [client.on('transcode_complete', reload), client.on('transcode_failed', reload), client.on('resumed', reload)];
    return () => offs.forEach((off) => off());
  }, [client, load]);

  const upload = async (file: File) => {
    setUploading(true);
    try {
      const video = await api.uploadVideo(file, file.name.replace(/\.[^.]+$/, ''));
      message.success(t('videos.uploaded', { name: video.title }));
      setVideos((current) => [video, ...current.filter((v) => v.id !== video.id)]);
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    } finally {
      setUploading(false);
    }
  };

  const start = async (video: Video, formats: string[]) => {
    try {
      const job = await api.transcode(video.id, formats);
      message.success(t('videos.started'));
      setVideos((current) => current.map((v) => (v.id === video.id ? { ...v, status: 'queued', progress: 0, job_id: job.job_id, formats, error: null } : v)));
      setDialogFor(null);
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  const cancel = async (video: Video) => {
    try {
      const { cancelled } = await api.cancelTranscode(video.id);
      message.info(t(cancelled ? 'videos.cancelled' : 'videos.notCancelled'));
      void load();
    } catch (error) {
      message.error(t('error.generic', { message: (error as Error).message }));
    }
  };

  return (
    <Card
      title={t('nav.videos')}
      extra={
        <Upload accept="video/*" showUploadList={false} beforeUpload={(file) => (void upload(file), false)} disabled={uploading}>
          <Button type="primary" icon={<UploadOutlined />} loading={uploading} data-testid="upload">
            {uploading ? t('videos.uploading') : t('videos.upload')}
          </Button>
        </Upload>
      }
    >
      {loadError && <Alert type="error" showIcon style={{ marginBottom: 16 }} message={t('videos.unavailable', { error: loadError })} />}
      <Table<Video>
        rowKey="id"
        dataSource={videos}
        locale={{ emptyText: t('videos.empty') }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        onRow={(video) => ({ 'data-testid': 'video-row', 'data-video-id': video.id }) as never}
        columns={[
          {
            title: t('videos.title'),
            render: (_, video) => (
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{video.title}</Typography.Text>
                <Typography.Text type="secondary">#{video.id}</Typography.Text>
              </Space>
            ),
          },
          {
            title: t('videos.info'),
            render: (_, video) => (
              <Typography.Text type="secondary">
                {formatDuration(video.duration)} · {video.width && video.height ? `${video.width}×${video.height}` : '—'} · {formatBytes(video.size, lang)}
              </Typography.Text>
            ),
          },
          {
            title: t('videos.status'),
            width: 240,
            render: (_, video) =>
              video.status === 'uploaded' ? (
                <Tag>{t('videoStatus.uploaded')}</Tag>
              ) : (
                // One component per job: a new transcode starts from a clean state.
                <TranscodeStatus key={`${video.id}:${video.job_id ?? ''}`} videoId={video.id} jobId={video.job_id ?? undefined} fetchStatus={api.transcodeStatus}>
                  {(status) => <TranscodeProgress status={status} />}
                </TranscodeStatus>
              ),
          },
          {
            title: t('videos.results'),
            render: (_, video) => (
              <Space direction="vertical" size={4} data-testid="video-results">
                {video.outputs.length > 0 && (
                  <Space wrap size={4}>
                    {video.outputs.map((output) => (
                      <Tag color="green" key={output.format_type}>
                        {output.format_type} · {formatBytes(output.file_size, lang)}
                      </Tag>
                    ))}
                  </Space>
                )}
                {video.error && <Typography.Text type="danger">{t('videos.failed', { error: video.error })}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('videos.actions'),
            width: 140,
            render: (_, video) =>
              ACTIVE.has(video.status) ? (
                <Button danger icon={<StopOutlined />} onClick={() => void cancel(video)} data-testid="cancel">
                  {t('videos.cancel')}
                </Button>
              ) : (
                <Button icon={<ThunderboltOutlined />} onClick={() => setDialogFor(video)} data-testid="transcode">
                  {t('videos.transcode')}
                </Button>
              ),
          },
        ]}
      />
      <TranscodeDialog video={dialogFor} presets={presets} onStart={start} onClose={() => setDialogFor(null)} />
    </Card>
  );
}
