import { create } from '@bufbuild/protobuf';
import { ConsumedMessageSchema } from '@partq/client-core';
import { toConsumedMessage } from './consumed-message.js';
import { MessageBuffer } from './message-buffer.js';

const message = (partition: number, offset: number) =>
  toConsumedMessage('t', create(ConsumedMessageSchema, { partitionId: partition, offset: BigInt(offset), payload: new TextEncoder().encode('"x"') }));

describe('MessageBuffer', () => {
  it('hands messages back in order per topic and counts them per partition', () => {
    const buffer = new MessageBuffer();
    buffer.push('t', [message(0, 0), message(1, 0), message(0, 1)]);
    expect(Object.fromEntries(buffer.countByPartition('t'))).toEqual({ 0: 2, 1: 1 });
    expect([buffer.take('t'), buffer.take('t')].map((m) => [m?.partition, m?.offset])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(buffer.take('other')).toBeUndefined();
    buffer.clear();
    expect(buffer.take('t')).toBeUndefined();
  });
});
