export { Delivery, type DeliveryPhase, type DeliverySink, type LiveMeta, type ReplaySource } from './delivery.js';
export { checkSince, planOpening, type Heads, type Opening, type OpeningPlan } from './opening.js';
