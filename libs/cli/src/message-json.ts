import type { ConsumedMessage } from '@partq/consumer';

/** One consumed message as `partq consume` prints it (one JSON object per line). */
export interface MessageJson {
  topic: string;
  partition: number;
  offset: number;
  value: string;
  key?: string;
  /** When the broker appended it, ISO 8601. */
  timestamp: string;
  /** Present when value (and key) are base64 because the value or key is not UTF-8 text. */
  encoding?: 'base64';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Text when the bytes are UTF-8; otherwise value and key both go base64, flagged by `encoding`. */
export function messageJson(message: ConsumedMessage): MessageJson {
  const value = utf8(message.value);
  const key = message.key === undefined ? undefined : utf8(message.key);
  const binary = value === undefined || (message.key !== undefined && key === undefined);
  const base64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    value: binary ? base64(message.value) : value!,
    ...(message.key === undefined ? {} : { key: binary ? base64(message.key) : key! }),
    timestamp: message.timestamp.toISOString(),
    ...(binary ? { encoding: 'base64' as const } : {}),
  };
}
