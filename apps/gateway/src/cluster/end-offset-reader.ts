import { partitionKey, type MetadataView } from '@partq/cluster';
import type { BrokerService, Partition } from '@partq/proto';
import type { PeerClients } from './peer-clients.js';

const DEFAULT_TIMEOUT_MS = 1500;

/**
 * End offsets (next offset to be written) of many partitions of many topics, with one GetOffsets
 * call per owning broker: the status page asks for every partition of the cluster each second,
 * `GET /topics/partitions` for those of one topic.
 */
export class EndOffsetReader {
  constructor(
    private readonly view: MetadataView,
    private readonly brokers: PeerClients<typeof BrokerService>,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /**
   * By partitionKey(topicId, partitionId). A partition without an owner, or whose broker is dead or
   * did not answer, is missing: the caller falls back to its committed high watermark.
   */
  async read(partitions: Partition[]): Promise<{ offsets: Map<string, bigint>; unreachable: number[] }> {
    const byBroker = new Map<number, Partition[]>();
    for (const partition of partitions) {
      if (partition.brokerId === 0) continue;
      const owned = byBroker.get(partition.brokerId) ?? [];
      owned.push(partition);
      byBroker.set(partition.brokerId, owned);
    }
    const offsets = new Map<string, bigint>();
    const unreachable: number[] = [];
    await Promise.all(
      [...byBroker].map(async ([brokerId, owned]) => {
        const broker = this.view.aliveBroker(brokerId);
        if (!broker) return;
        try {
          const answer = await this.brokers
            .get(broker.address)
            .getOffsets({ partitions: owned.map((p) => ({ topicId: p.topicId, partitionId: p.partitionId })) }, { timeoutMs: this.timeoutMs });
          for (const entry of answer.endOffsets) offsets.set(partitionKey(entry.topicId, entry.partitionId), entry.offset);
        } catch {
          unreachable.push(brokerId);
        }
      }),
    );
    return { offsets, unreachable: unreachable.sort((a, b) => a - b) };
  }
}
