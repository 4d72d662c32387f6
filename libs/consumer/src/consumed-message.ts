import type { ConsumedMessage as WireMessage } from '@partq/client-core';

/** One message as a consumer receives it. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  /** Position in the partition: consecutive, from 0. */
  readonly offset: number;
  readonly value: Uint8Array;
  readonly key?: Uint8Array;
  /** When the broker appended it. */
  readonly timestamp: Date;
  /** The value as UTF-8 text. */
  text(): string;
  /** The value parsed as UTF-8 JSON. */
  json<T = unknown>(): T;
}

const utf8 = new TextDecoder();

class ReceivedMessage implements ConsumedMessage {
  readonly partition: number;
  readonly offset: number;
  readonly value: Uint8Array;
  readonly key?: Uint8Array;
  readonly timestamp: Date;

  constructor(
    readonly topic: string,
    wire: WireMessage,
  ) {
    this.partition = wire.partitionId;
    this.offset = Number(wire.offset);
    this.value = wire.payload;
    if (wire.key !== undefined) this.key = wire.key;
    this.timestamp = new Date(Number(wire.timestampMs));
  }

  text(): string {
    return utf8.decode(this.value);
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** The public shape of a wire message: numbers instead of bigints, with its topic. */
export function toConsumedMessage(topic: string, wire: WireMessage): ConsumedMessage {
  return new ReceivedMessage(topic, wire);
}
