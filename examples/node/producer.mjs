// Herald producer for Node backends (Node 18+, no dependencies): the specification's four
// notification functions, and custom events, over `POST /api/v1/events` with the service key.
//
//   HERALD_URL=http://127.0.0.1:8000 HERALD_SERVICE_KEY=... node producer.mjs
import { randomUUID } from 'node:crypto';

/** Herald refused the request: `status` is the HTTP status, `code` Herald's ERR_* code. */
export class HeraldError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** A client of Herald's publish API; retries network failures and 5xx with one Idempotency-Key. */
export function createProducer({ url = process.env.HERALD_URL ?? 'http://127.0.0.1:8000', serviceKey = process.env.HERALD_SERVICE_KEY, retries = 3 } = {}) {
  if (!serviceKey) throw new Error('HERALD_SERVICE_KEY is not set: Herald accepts events only with the service key');
  const base = url.replace(/\/+$/, '');

  /** One event (an object) or a batch (an array of up to 500) in one request. */
  async function publish(events, idempotencyKey = randomUUID()) {
    let last;
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await fetch(`${base}/api/v1/events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${serviceKey}`, 'idempotency-key': idempotencyKey },
          body: JSON.stringify(events),
        });
        const body = await res.json().catch(() => null);
        if (res.ok) return body;
        last = new HeraldError(res.status, body?.error ?? 'ERR_HTTP', body?.message ?? res.statusText);
        if (res.status < 500) throw last;
      } catch (error) {
        if (error instanceof HeraldError && error.status < 500) throw error;
        last = error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 200 * 2 ** attempt)));
    }
    throw last;
  }

  return {
    publish,
    notifyTranscodeProgress: (videoId, status, progress, message = '', target = 'admin') =>
      publish({ type: 'transcode_progress', target, video_id: videoId, status, progress, message }),
    notifyTranscodeComplete: (videoId, title, formatType, fileSize, target = 'admin') =>
      publish({ type: 'transcode_complete', target, video_id: videoId, title, format_type: formatType, file_size: fileSize }),
    notifyTranscodeFailed: (videoId, title, error, target = 'admin') =>
      publish({ type: 'transcode_failed', target, video_id: videoId, title, error }),
    notifySystemMessage: (message, level = 'info', target = 'all') => publish({ type: 'system_message', target, message, level }),
    /** A custom event (`order.shipped`): `data` is any JSON object up to 8 KiB; `persist: false` sends it live only. */
    publishEvent: (type, data, target = 'all', { persist = true } = {}) => publish({ type, target, data, persist }),
  };
}

// Run directly: the specification's examples, in order.
if (import.meta.url === `file://${process.argv[1]}`) {
  const herald = createProducer();
  console.log(JSON.stringify(await herald.notifyTranscodeProgress(123, 'processing', 45, '已完成720p转码')));
  console.log(JSON.stringify(await herald.notifyTranscodeComplete(123, '示例视频', 'av1', 1024000000)));
  console.log(JSON.stringify(await herald.notifySystemMessage('系统将于10分钟后维护', 'warning', 'admin')));
  console.log(JSON.stringify(await herald.publishEvent('video.published', { video_id: 123, url: '/videos/123' }, 'admin')));
}
