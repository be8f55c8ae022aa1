import { useEffect, useState, type ReactNode } from 'react';
import { Checkbox, Modal, Space, Typography } from 'antd';
import type { Preset, Video } from '../api/types.js';
import { useI18n } from '../i18n/I18n.js';

interface Props {
  video: Video | null;
  presets: Preset[];
  onStart: (video: Video, formats: string[]) => Promise<void>;
  onClose: () => void;
}

/** Chooses the presets of a transcode; presets this server cannot run are shown disabled. */
export function TranscodeDialog({ video, presets, onStart, onClose }: Props): ReactNode {
  const { t } = useI18n();
  const [selected, setSelected] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!video) return;
    const available = presets.filter((p) => p.available).map((p) => p.name);
    setSelected(video.formats.length > 0 ? video.formats.filter((f) => available.includes(f)) : available.slice(0, 1));
  }, [video, presets]);

  return (
    <Modal
      open={video !== null}
      title={`${t('videos.transcode')}: ${video?.title ?? ''}`}
      okText={t('videos.start')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: selected.length === 0, loading: busy, 'data-testid': 'transcode-start' } as never}
      onCancel={onClose}
      onOk={async () => {
        if (!video) return;
        setBusy(true);
        try {
          await onStart(video, selected);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Typography.Paragraph>{t('videos.presets')}</Typography.Paragraph>
      <Checkbox.Group value={selected} onChange={(values) => setSelected(values as string[])}>
        <Space direction="vertical">
          {presets.map((preset) => (
            <Checkbox key={preset.name} value={preset.name} disabled={!preset.available}>
              {preset.label} <Typography.Text type="secondary">({preset.name}{preset.available ? '' : `, ${t('videos.presetUnavailable')}`})</Typography.Text>
            </Checkbox>
          ))}
        </Space>
      </Checkbox.Group>
    </Modal>
  );
}
