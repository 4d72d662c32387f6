import type { Acks } from '@partq/proto';

/** One message as a front end (REST or Connect) hands it to the producer router. */
export interface OutgoingMessage {
  payload: Uint8Array;
  key?: Uint8Array;
  /** A partition the producer named; otherwise key hash, sequence, then round robin decide. */
  partitionId?: number;
  /** Per-producer sequence: a retried produce with the same sequence lands once. */
  sequence?: bigint;
  /**
   * The producer's previous sequence on the message's partition (first message of a client batch
   * per partition): the broker refuses the message with SEQUENCE_GAP until that one is stored.
   */
  previousSequence?: bigint;
}

export interface ProduceRequest {
  topic: string;
  producerId: number;
  messages: readonly OutgoingMessage[];
  /** UNSPECIFIED (or absent): the topic's default. */
  acks?: Acks;
}

/** Where one message landed, in request order. */
export interface ProducedMessage {
  partitionId: number;
  offset: bigint;
  /** True when the broker had this (producer, sequence) already; offset is the original one. */
  duplicate: boolean;
}
