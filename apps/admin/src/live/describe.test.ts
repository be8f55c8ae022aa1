import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '@herald/protocol';
import { translate, type Lang } from '../i18n/I18n.js';
import { formatBytes, localeFor } from '../i18n/format.js';
import { describeMessage, progressText, refusalText, typeLabel } from './describe.js';

const t = (lang: Lang) => (key: Parameters<typeof translate>[1], params?: Record<string, string | number>) => translate(lang, key, params);
const CJK = /[\u3400-\u9fff]/;
const tick = { type: 'transcode_progress', video_id: 7, status: 'processing', progress: 45.4, message: '正在转码 1080p (1/3)', timestamp: '2026-01-01T00:00:00Z' } as ServerMessage;

describe('server messages in the console language', () => {
  it("never shows the specification's Chinese progress message in English", () => {
    expect(describeMessage(tick, t('en'), 'en')).toBe('#7 Transcoding 45%');
    expect(describeMessage(tick, t('zh'), 'zh')).toBe('#7 转码中 45%');
  });

  it('renders the structured format and step fields when the server sends them', () => {
    expect(progressText({ status: 'processing', progress: 10, format: '1080p', step: 1, steps: 3 }, t('en'))).toBe('Transcoding 1080p (1/3)');
    expect(progressText({ status: 'processing', progress: 10, format: '1080p', step: 1, steps: 3 }, t('zh'))).toBe('转码中 1080p (1/3)');
    const skipping = { status: 'processing', progress: 0, format: '480p', step: 1, steps: 1, skipped: ['1080p', '720p'], source_width: 640, source_height: 360 };
    expect(progressText(skipping, t('en'))).toBe('Transcoding 480p (1/1) · skipped: 1080p, 720p, source is 640×360');
    expect(progressText(skipping, t('zh'))).toBe('转码中 480p (1/1) · 已跳过 1080p, 720p:源视频为 640×360');
  });

  it('shows event types and lifecycle events as words, with no English in Chinese', () => {
    const events = [
      { type: 'resumed', replayed: 0, positions: {} },
      { type: 'notifications_read', ids: [3, 4], unread_count: 2 },
      { type: 'connected', message: 'WebSocket连接成功', node_id: 'n1', connection_stats: { total_connections: 2 } },
    ] as unknown as ServerMessage[];
    for (const m of events) {
      expect(describeMessage(m, t('zh'), 'zh')).not.toMatch(/[a-z]{3,}/i);
      expect(describeMessage(m, t('en'), 'en')).not.toMatch(CJK);
      expect(typeLabel(m.type, t('zh'))).toMatch(CJK);
    }
    expect(typeLabel('transcode_progress', t('en'))).toBe('Transcode progress');
  });

  it('says why the server refused the connection', () => {
    expect(refusalText(4003, 'origin not allowed', t('en'), 'http://10.0.0.5:18200')).toContain('BACKEND_CORS_ORIGINS');
    expect(refusalText(4003, 'origin not allowed', t('en'), 'http://10.0.0.5:18200')).toContain('http://10.0.0.5:18200');
    expect(refusalText(4003, 'admin only', t('zh'), '')).toContain('4003');
    expect(refusalText(4001, 'token expired', t('en'), '')).toContain('4001');
    expect(refusalText(4009, 'too many', t('zh'), '')).toContain('4009');
    expect(refusalText(1006, '', t('en'), '')).toBeNull();
  });
});

describe('locale formats', () => {
  it("uses the browser's own locale when it speaks the console's language", () => {
    expect(localeFor('en', ['en-GB', 'zh-CN'])).toBe('en-GB');
    expect(localeFor('en', ['zh-CN'])).toBe('en');
    expect(localeFor('zh', ['en-US', 'zh-TW'])).toBe('zh-TW');
  });

  it('formats sizes with the locale number style', () => {
    expect(formatBytes(1536, 'en')).toMatch(/^1\.5\s?kB$/);
    expect(formatBytes(null, 'zh')).toBe('—');
  });
});
