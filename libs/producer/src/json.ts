import { ProducerError } from './errors/producer-error.js';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** JSON message bodies: `send(topic, json.encode({ id: 1 }))`. */
export const json = {
  encode(value: unknown): Uint8Array {
    const text = JSON.stringify(value);
    if (text === undefined) throw new ProducerError('INVALID_ARGUMENT', `cannot encode ${typeof value} as JSON`);
    return utf8Encoder.encode(text);
  },
  decode<T>(bytes: Uint8Array): T {
    return JSON.parse(utf8Decoder.decode(bytes)) as T;
  },
};
