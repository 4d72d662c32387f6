export { startGateway, type Gateway, type StartGatewayOptions } from './gateway.js';
export { gatewayConfig, gatewayConfigSpec, loadGatewayConfig, resolveGatewayConfig, type GatewayConfig } from './config.js';
export { ProducerRouter, type ProducerRouterOptions } from './produce/producer-router.js';
export type { OutgoingMessage, ProduceRequest, ProducedMessage } from './produce/outgoing-message.js';
export { ReplicaRouter, type ReplicaRouterOptions } from './consume/replica-router.js';
export { ConsumerReads, MAX_MESSAGES_PER_DEQUEUE, type ConsumeRequest, type ConsumerSize } from './consume/consumer-reads.js';
