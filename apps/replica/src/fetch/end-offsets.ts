import type { MetadataView } from '@partq/cluster';
import type { Partition } from '@partq/proto';
import { fromConnectError, type Logger } from '@partq/runtime';
import type { BrokerClientPool } from './broker-client-pool.js';
import { DEFAULT_BROKER_TIMEOUT_MS } from './fetch-defaults.js';

/**
 * The end offset (the offset the next message will get) of partitions, asked of their owning
 * brokers with one GetOffsets per broker. A partition without a live owner ends at its committed
 * high watermark (nothing beyond it can be read). A partition whose owner did not answer is left
 * out: its end is unknown, and guessing the (lagging) high watermark would hide messages.
 */
export class EndOffsets {
  constructor(
    private readonly view: MetadataView,
    private readonly brokers: BrokerClientPool,
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly brokerTimeoutMs = DEFAULT_BROKER_TIMEOUT_MS,
  ) {}

  /** End offsets by partition id, for every partition whose end is known. */
  async of(partitions: readonly Partition[]): Promise<Map<number, number>> {
    const ends = new Map<number, number>();
    const byBroker = new Map<string, Partition[]>();
    for (const partition of partitions) {
      const broker = partition.brokerId > 0 ? this.view.aliveBroker(partition.brokerId) : undefined;
      if (!broker) {
        ends.set(partition.partitionId, Number(partition.highWatermark));
        continue;
      }
      const group = byBroker.get(broker.address) ?? [];
      group.push(partition);
      byBroker.set(broker.address, group);
    }
    await Promise.all(
      [...byBroker].map(async ([address, group]) => {
        try {
          const answer = await this.brokers
            .client(address)
            .getOffsets(
              { partitions: group.map((p) => ({ topicId: p.topicId, partitionId: p.partitionId })) },
              { timeoutMs: this.brokerTimeoutMs },
            );
          for (const end of answer.endOffsets) {
            const asked = group.find((p) => p.topicId === end.topicId && p.partitionId === end.partitionId);
            // Never below the high watermark: what is committed is readable from PostgreSQL anyway.
            if (asked) ends.set(asked.partitionId, Math.max(Number(end.offset), Number(asked.highWatermark)));
          }
        } catch (error) {
          const failure = fromConnectError(error);
          this.logger.warn({ err: failure, code: failure.code, broker: address }, 'GetOffsets failed; using high watermarks');
        }
      }),
    );
    return ends;
  }
}
