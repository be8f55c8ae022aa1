export {
  NotificationService,
  streamOf,
  type Target,
  type Delivery,
  type ReadChange,
  type PublishMetrics,
  type EventResult,
  type EventDelivery,
  type PublishOnce,
} from './service.js';
export { parseEvent, MAX_BATCH, MAX_TARGET_USERS, SPEC_FIELDS, type ParsedEvent, type EventTarget } from './events.js';
export { ProgressBoard } from './progress.js';
export { wireText, wireObject, readMeta, nowIso, type WireMeta } from './wire.js';
export { CompatBridge, COMPAT_CHANNEL, MAX_COMPAT_PAYLOAD_BYTES, type IngressRejection } from './compat.js';
