export { startBroker, type RunningBroker, type StartBrokerOptions } from './broker.js';
export { brokerConfigSpec, type BrokerConfig } from './config.js';
export { DataDirLockedError } from './data-dir-lock.js';
