import { optionNames } from '@partq/client-core';
import { ProducerError } from './errors/producer-error.js';
import { assertKnownOptions } from './known-options.js';

/** What send() takes: a string (sent as UTF-8), raw bytes, or a value with its own key and partition. */
export type Message = string | Uint8Array | { value: string | Uint8Array; key?: string | Uint8Array; partition?: number };

const MESSAGE_FIELDS = optionNames<Exclude<Message, string | Uint8Array>>({ value: true, key: true, partition: true });

/**
 * A message as it goes on the wire. An idempotent producer gives it a sequence when it enters a
 * batch, and, when the batch is sent, the sequence of its partition's previous message if it is the
 * batch's first for that partition (see batching/partition-chains.ts).
 */
export interface OutgoingMessage {
  payload: Uint8Array;
  key?: Uint8Array;
  partitionId?: number;
  sequence?: number;
  previousSequence?: number;
}

/** Defaults a send() call gives its messages that do not name their own. */
export interface MessageDefaults {
  key?: string | Uint8Array;
  partition?: number;
}

const utf8 = new TextEncoder();

/** Checks one message and turns it into bytes; bad input is refused before anything is sent. */
export function toOutgoingMessage(message: Message, defaults: MessageDefaults, index: number): OutgoingMessage {
  if (typeof message === 'string' || message instanceof Uint8Array) {
    return outgoing(toBytes(message, 'value', index), defaults.key, defaults.partition, index);
  }
  if (message === null || typeof message !== 'object' || !('value' in message)) {
    throw new ProducerError('INVALID_ARGUMENT', `message ${index} must be a string, a Uint8Array or { value }`);
  }
  assertKnownOptions(message, MESSAGE_FIELDS, `message ${index}`);
  return outgoing(toBytes(message.value, 'value', index), message.key ?? defaults.key, message.partition ?? defaults.partition, index);
}

/**
 * Every field is there from the start, set or undefined, so that the batch's partition and the
 * idempotent sequences, written later, neither reshape the object nor grow a property store for it
 * (bytes the young generation copies for every send while thousands are in flight): one shape for
 * every message.
 */
function outgoing(payload: Uint8Array, key: string | Uint8Array | undefined, partition: number | undefined, index: number): OutgoingMessage {
  const keyBytes = key === undefined ? undefined : toBytes(key, 'key', index);
  if (partition !== undefined) assertPartition(partition, `message ${index}: partition`);
  return { payload, key: keyBytes, partitionId: partition, sequence: undefined, previousSequence: undefined };
}

function toBytes(value: unknown, field: string, index: number): Uint8Array {
  if (typeof value === 'string') return utf8.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new ProducerError('INVALID_ARGUMENT', `message ${index}: ${field} must be a string or a Uint8Array`);
}

export function assertPartition(partition: unknown, what = 'partition'): asserts partition is number {
  if (typeof partition !== 'number' || !Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
    throw new ProducerError('INVALID_ARGUMENT', `${what} must be a non-negative integer, got ${String(partition)}`);
  }
}
