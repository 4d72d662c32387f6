import { create } from '@bufbuild/protobuf';
import { BrokerSchema, BrokerState, ConsumerSchema, MetadataSchema, PartitionSchema, ProducerSchema, TopicSchema } from '@partq/proto';
import { MetadataView } from './metadata-view.js';

const topic = create(TopicSchema, { id: 1, name: 'orders', partitionCount: 2 });
const partition = (partitionId: number, brokerId: number, epoch: number) =>
  create(PartitionSchema, { topicId: 1, partitionId, brokerId, epoch });

describe('MetadataView', () => {
  it('applies a snapshot, then deltas as upserts', () => {
    const view = new MetadataView();
    expect(view.ready).toBe(false);
    view.apply(create(MetadataSchema, { topics: [topic], partitions: [partition(0, 1, 1), partition(1, 2, 1)] }), 3, true);
    expect(view.ready).toBe(true);
    expect(view.topicByName('orders')?.id).toBe(1);
    expect(view.partitionsOf(1).map((p) => p.brokerId)).toEqual([1, 2]);

    view.apply(create(MetadataSchema, { partitions: [partition(1, 3, 2)] }), 4, false);
    expect(view.partition(1, 1)?.brokerId).toBe(3);
    expect(view.partition(1, 0)?.brokerId).toBe(1);
    expect(view.version).toBe(4);
  });

  it('a snapshot replaces what was known', () => {
    const view = new MetadataView();
    view.apply(create(MetadataSchema, { topics: [topic] }), 1, true);
    view.apply(create(MetadataSchema, {}), 2, true);
    expect(view.topicByName('orders')).toBeUndefined();
  });

  it('drops the producers and consumers a delta removes', () => {
    const view = new MetadataView();
    const consumers = [1, 2].map((id) => create(ConsumerSchema, { id, topicId: 1 }));
    const producers = [7, 8].map((id) => create(ProducerSchema, { id, topicId: 1 }));
    view.apply(create(MetadataSchema, { topics: [topic], consumers, producers }), 1, true);
    view.apply(create(MetadataSchema, { removedConsumerIds: [1], removedProducerIds: [8] }), 2, false);
    expect([view.consumer(1), view.consumer(2)?.id]).toEqual([undefined, 2]);
    expect([view.producer(7)?.id, view.producer(8)]).toEqual([7, undefined]);
  });

  it('never lets an older epoch replace a newer one', () => {
    const view = new MetadataView();
    view.apply(create(MetadataSchema, { topics: [topic], partitions: [partition(0, 2, 5)] }), 1, true);
    view.upsert({ partitions: [partition(0, 1, 4)] });
    expect(view.partition(1, 0)?.brokerId).toBe(2);
  });

  it('ownersVersion moves with owners, epochs and brokers, not with high watermarks', () => {
    const view = new MetadataView();
    const broker = (state: BrokerState, address = 'http://127.0.0.1:7101') => create(BrokerSchema, { id: 1, address, state });
    view.apply(create(MetadataSchema, { topics: [topic], partitions: [partition(0, 1, 1)], brokers: [broker(BrokerState.ALIVE)] }), 1, true);
    const seen = view.ownersVersion;
    const watermark = (hw: bigint) => create(PartitionSchema, { topicId: 1, partitionId: 0, brokerId: 1, epoch: 1, highWatermark: hw });
    view.apply(create(MetadataSchema, { partitions: [watermark(10n)], brokers: [broker(BrokerState.ALIVE)] }), 2, false);
    expect(view.ownersVersion).toBe(seen);
    expect(view.partition(1, 0)?.highWatermark).toBe(10n);

    const changes: (() => void)[] = [
      () => view.upsert({ partitions: [partition(0, 1, 2)] }), // a new epoch
      () => view.upsert({ partitions: [partition(0, 2, 2)] }), // another owner
      () => view.upsert({ partitions: [partition(1, 1, 1)] }), // a new partition
      () => view.upsert({ brokers: [broker(BrokerState.DEAD)] }),
      () => view.upsert({ brokers: [broker(BrokerState.DEAD, 'http://127.0.0.1:7109')] }),
    ];
    for (const change of changes) {
      const before = view.ownersVersion;
      change();
      expect(view.ownersVersion).toBeGreaterThan(before);
    }
    // An older epoch is ignored, so it changes nothing.
    const before = view.ownersVersion;
    view.upsert({ partitions: [partition(0, 3, 1)] });
    expect(view.ownersVersion).toBe(before);
  });

  it('waitForVersion resolves when the version is reached, or false on timeout', async () => {
    const view = new MetadataView();
    view.apply(undefined, 1, true);
    const reached = view.waitForVersion(2, 1000);
    view.apply(undefined, 2, false);
    await expect(reached).resolves.toBe(true);
    await expect(view.waitForVersion(9, 10)).resolves.toBe(false);
  });
});
