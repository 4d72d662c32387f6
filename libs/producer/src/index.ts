export { Producer } from './producer.js';
export type { SignalOptions, CreateTopicOptions, RegisterOptions, SendOptions } from './producer.js';
export type { ProducerOptions, RetryOptions, AcksMode } from './options.js';
export type { Message } from './message.js';
export type { SendResult } from './batching/send-result.js';
export type { HttpVersion } from '@partq/client-core';
export { ProducerError, PRODUCER_ERROR_CODES } from './errors/producer-error.js';
export type { ProducerErrorCode } from './errors/producer-error.js';
export { json } from './json.js';
