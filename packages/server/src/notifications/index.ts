export { NotificationService, streamOf, type Target, type Delivery, type ReadChange, type PublishMetrics } from './service.js';
export { ProgressBoard } from './progress.js';
export { wireText, wireObject, readMeta, nowIso, type WireMeta } from './wire.js';
export { CompatBridge, COMPAT_CHANNEL } from './compat.js';
