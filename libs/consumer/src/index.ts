export { Consumer } from './consumer.js';
export type { SignalOptions, RegisterOptions, MessagesOptions, TopicSize } from './consumer.js';
export type { ConsumerOptions, RetryOptions } from './options.js';
export type { ConsumedMessage } from './consumed-message.js';
export type { DisconnectEvent, ReconnectEvent } from './connection-status.js';
export type { StatusEvent } from './status-events.js';
export type { HttpVersion } from '@partq/client-core';
export { ConsumerError, CONSUMER_ERROR_CODES } from './errors/consumer-error.js';
export type { ConsumerErrorCode } from './errors/consumer-error.js';
