import { fromBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';

/**
 * Hand-written readers of answers, by message type name: each gives the message fromBinary() would,
 * or undefined to leave the bytes to fromBinary() (for what it does not take).
 */
export type WireDecoders = ReadonlyMap<string, WireDecoder>;

/** Reads one message's bytes by hand, or answers undefined to leave them to fromBinary(). */
export type WireDecoder = (bytes: Uint8Array) => { $typeName: string } | undefined;

/** An answer's bytes as a message of `schema`: by its hand-written reader when there is one that takes them. */
export function decodeAnswer<O extends DescMessage>(schema: O, bytes: Uint8Array, decoders: WireDecoders | undefined): MessageShape<O> {
  const decoded = decoders?.get(schema.typeName)?.(bytes);
  return decoded === undefined ? fromBinary(schema, bytes) : (decoded as MessageShape<O>);
}
