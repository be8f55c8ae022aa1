export type { Broker, BrokerHandler, BrokerHealth, NodeReport } from './broker.js';
export { channelFor } from './broker.js';
export { MemoryBroker } from './memory.js';
