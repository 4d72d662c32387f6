import { create } from '@bufbuild/protobuf';
import { MetadataView } from '@partq/cluster';
import { ConsumerSchema, MetadataSchema, PartitionSchema, TopicSchema } from '@partq/proto';
import { watchHandovers } from './handover-watch.js';

const topics = [1, 2].map((id) => create(TopicSchema, { id, name: `t${id}`, partitionCount: 2 }));
const partition = (topicId: number, partitionId: number, epoch: number, highWatermark = 0n) =>
  create(PartitionSchema, { topicId, partitionId, brokerId: 1, epoch, highWatermark });
const consumers = [create(ConsumerSchema, { id: 10, topicId: 1 }), create(ConsumerSchema, { id: 20, topicId: 2 })];

describe('watchHandovers', () => {
  it("forgets the positions of a topic's consumers when one of its partitions takes a new epoch, and only then", () => {
    const view = new MetadataView();
    let version = 1;
    view.apply(
      create(MetadataSchema, { topics, consumers, partitions: [partition(1, 0, 1), partition(1, 1, 1), partition(2, 0, 1), partition(2, 1, 1)] }),
      version++,
      true,
    );
    const forgotten: number[][] = [];
    const positions = {
      forgetIf: (test: (consumerId: number) => boolean) => void forgotten.push([10, 20].filter(test)),
    };
    const stop = watchHandovers(view, positions);

    // High watermarks move at every sync: nothing to forget.
    view.apply(create(MetadataSchema, { partitions: [partition(1, 1, 1, 40n)] }), version++, false);
    expect(forgotten).toEqual([]);

    view.apply(create(MetadataSchema, { partitions: [partition(2, 1, 2, 40n)] }), version++, false);
    expect(forgotten).toEqual([[20]]);

    stop();
    view.apply(create(MetadataSchema, { partitions: [partition(1, 0, 2)] }), version++, false);
    expect(forgotten).toEqual([[20]]);
  });
});
