import { create } from '@bufbuild/protobuf';
import { ConsumedMessageSchema } from '@partq/client-core';
import { toConsumedMessage } from './consumed-message.js';

describe('toConsumedMessage', () => {
  it('converts offsets and timestamps to numbers and dates and decodes the value', () => {
    const m = toConsumedMessage(
      't',
      create(ConsumedMessageSchema, { partitionId: 2, offset: 41n, payload: new TextEncoder().encode('{"a":1}'), timestampMs: 1000n }),
    );
    expect(m).toMatchObject({ topic: 't', partition: 2, offset: 41, timestamp: new Date(1000) });
    expect(m.key).toBeUndefined();
    expect(m.text()).toBe('{"a":1}');
    expect(m.json()).toEqual({ a: 1 });
  });
});
