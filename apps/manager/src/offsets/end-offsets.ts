import { create } from '@bufbuild/protobuf';
import { PartitionOffsetSchema } from '@partq/proto';
import { PartqError, fromConnectError, retry } from '@partq/runtime';
import type { PartitionRow } from '@partq/schema';
import type { BrokerClients } from '../membership/broker-clients.js';
import type { ClusterState } from '../state/cluster-state.js';

/**
 * The end offset (next offset to be written) of each partition, asked of its owner.
 * A partition without a live owner cannot grow, so its high watermark is its end.
 * Owners are retried briefly: during a failover the map changes under us.
 */
export async function endOffsets(state: ClusterState, brokers: BrokerClients, partitions: PartitionRow[], deadlineMs = 5000): Promise<Map<number, number>> {
  return retry(
    async () => {
      const result = new Map<number, number>();
      const byOwner = new Map<number, PartitionRow[]>();
      for (const p of partitions) {
        const current = state.partition(p.topic_id, p.partition_id) ?? p;
        const owner = current.broker_id === null ? undefined : state.brokers.get(current.broker_id);
        if (!owner || owner.state === 'dead') {
          result.set(current.partition_id, current.high_watermark);
          continue;
        }
        byOwner.set(owner.id, [...(byOwner.get(owner.id) ?? []), current]);
      }
      await Promise.all(
        [...byOwner.entries()].map(async ([brokerId, owned]) => {
          const client = brokers.get(brokerId);
          if (!client) throw new PartqError('UNAVAILABLE', `broker ${brokerId} has no address`);
          try {
            const answer = await client.getOffsets(
              { partitions: owned.map((p) => create(PartitionOffsetSchema, { topicId: p.topic_id, partitionId: p.partition_id })) },
              { timeoutMs: 2000 },
            );
            for (const o of answer.endOffsets) result.set(o.partitionId, Number(o.offset));
          } catch (error) {
            throw fromConnectError(error);
          }
        }),
      );
      return result;
    },
    { deadlineMs },
  );
}
