import type { ServiceImpl } from '@connectrpc/connect';
import { ReplicaService, type ConsumedMessage, type Replica } from '@partq/proto';
import { PartqError, wrapServiceImpl } from '@partq/runtime';
import type { FakeClusterState } from './fake-cluster-state.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

export interface FakeReplica extends FakeServer {
  replica: Replica;
  /** Consume and Size calls served, by consumer id. */
  served: number[];
}

/** A replica that reads the shared fake logs from each consumer's positions, partitions in turn. */
export async function startFakeReplica(state: FakeClusterState): Promise<FakeReplica> {
  const served: number[] = [];
  const nextPartition = new Map<number, number>();

  const impl: Partial<ServiceImpl<typeof ReplicaService>> = {
    async consume(request) {
      served.push(request.consumerId);
      const positions = state.positions.get(request.consumerId);
      const consumer = state.consumers.get(request.consumerId);
      if (!positions || !consumer) throw new PartqError('NOT_FOUND', `consumer ${request.consumerId} is not registered`);
      const partitionIds = request.partitionId === undefined ? [...positions.keys()].sort((a, b) => a - b) : [request.partitionId];
      const messages: ConsumedMessage[] = [];
      const max = request.maxMessages || 1;
      const start = nextPartition.get(request.consumerId) ?? 0;
      let next = start;
      for (let turn = 0; turn < partitionIds.length && messages.length < max; turn++) {
        const partitionId = partitionIds[(start + turn) % partitionIds.length]!;
        const log = state.log(consumer.topicId, partitionId);
        let position = positions.get(partitionId) ?? 0n;
        while (position < BigInt(log.length) && messages.length < max) {
          const record = log[Number(position)]!;
          messages.push({ $typeName: 'partq.v1.ConsumedMessage', partitionId, offset: record.offset, payload: record.payload, key: record.key, timestampMs: record.timestampMs });
          position++;
        }
        positions.set(partitionId, position);
        // The partition after the last one read goes first next time, so none starves.
        next = (start + turn + 1) % partitionIds.length;
      }
      nextPartition.set(request.consumerId, next);
      return { messages };
    },
    async size(request) {
      served.push(request.consumerId);
      const positions = state.positions.get(request.consumerId);
      const consumer = state.consumers.get(request.consumerId);
      if (!positions || !consumer) throw new PartqError('NOT_FOUND', `consumer ${request.consumerId} is not registered`);
      const partitions = [...positions].map(([partitionId, position]) => ({
        partitionId,
        size: BigInt(state.log(consumer.topicId, partitionId).length) - position,
      }));
      return { size: partitions.reduce((sum, p) => sum + p.size, 0n), partitions };
    },
  };

  const server = await startFakeServer((router) => router.service(ReplicaService, wrapServiceImpl(impl)));
  return { ...server, replica: state.addReplica(server.address), served };
}
