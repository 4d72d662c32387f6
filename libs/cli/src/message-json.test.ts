import type { ConsumedMessage } from '@partq/consumer';
import { messageJson } from './message-json.js';

function message(value: Uint8Array, key?: Uint8Array): ConsumedMessage {
  return {
    topic: 'orders',
    partition: 2,
    offset: 41,
    value,
    ...(key === undefined ? {} : { key }),
    timestamp: new Date(Date.UTC(2025, 0, 1, 12)),
    text: () => new TextDecoder().decode(value),
    json: () => JSON.parse(new TextDecoder().decode(value)) as never,
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

describe('messageJson', () => {
  it('prints topic, partition, offset, the UTF-8 value and an ISO timestamp', () => {
    expect(JSON.stringify(messageJson(message(utf8('héllo "q"'))))).toBe(
      '{"topic":"orders","partition":2,"offset":41,"value":"héllo \\"q\\"","timestamp":"2025-01-01T12:00:00.000Z"}',
    );
  });

  it('adds the key when there is one', () => {
    expect(messageJson(message(utf8('v'), utf8('k')))).toMatchObject({ value: 'v', key: 'k' });
    expect(messageJson(message(utf8('v')))).not.toHaveProperty('key');
  });

  it('turns to base64, flagged, when the value or the key is not UTF-8', () => {
    expect(messageJson(message(new Uint8Array([0xff, 0x00]), utf8('k')))).toMatchObject({ value: '/wA=', key: 'aw==', encoding: 'base64' });
    expect(messageJson(message(utf8('v'), new Uint8Array([0xc3])))).toMatchObject({ value: 'dg==', key: 'ww==', encoding: 'base64' });
  });
});
