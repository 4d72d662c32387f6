import type { ServiceImpl } from '@connectrpc/connect';
import { ReplicaService, type CheckpointRequest, type ConsumedMessage, type ConsumeStreamRequest, type ReleaseRequest, type Replica } from '@partq/proto';
import { PartqError, sleep, wrapServiceImpl } from '@partq/runtime';
import type { FakeClusterState } from './fake-cluster-state.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

export interface FakeReplica extends FakeServer {
  replica: Replica;
  /** Consume and Size calls served, by consumer id. */
  served: number[];
  /** ConsumeStream requests received, in order. */
  streams: ConsumeStreamRequest[];
  releases: ReleaseRequest[];
  checkpoints: CheckpointRequest[];
  /** Fails every open stream with this code at its next look (the replica dying mid-stream). */
  breakStreams(code: 'UNAVAILABLE' | 'INTERNAL'): void;
}

/** A replica that reads the shared fake logs from each consumer's positions, partitions in turn. */
export async function startFakeReplica(state: FakeClusterState): Promise<FakeReplica> {
  const served: number[] = [];
  const streams: ConsumeStreamRequest[] = [];
  const releases: ReleaseRequest[] = [];
  const checkpoints: CheckpointRequest[] = [];
  const nextPartition = new Map<number, number>();
  let breakWith: 'UNAVAILABLE' | 'INTERNAL' | undefined;

  /** Up to max_messages from the consumer's positions, partitions in turn; the positions move past them. */
  function take(request: { consumerId: number; partitionId?: number; maxMessages: number }): ConsumedMessage[] {
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
    return messages;
  }

  const impl: Partial<ServiceImpl<typeof ReplicaService>> = {
    /** An empty response first, then deliveries as consume makes them (it looks every 20 ms while idle). */
    async *consumeStream(request, context) {
      streams.push(request);
      breakWith = undefined;
      let first = true;
      while (!context.signal.aborted) {
        if (breakWith) throw new PartqError(breakWith, 'the fake replica broke the stream');
        const messages = take(request);
        if (messages.length > 0 || first) yield { messages };
        first = false;
        if (messages.length === 0) await sleep(20, context.signal).catch(() => undefined);
      }
    },
    async release(request) {
      releases.push(request);
      return {};
    },
    async checkpoint(request) {
      checkpoints.push(request);
      return {};
    },
    async consume(request) {
      served.push(request.consumerId);
      return { messages: take(request) };
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
  return {
    ...server,
    replica: state.addReplica(server.address),
    served,
    streams,
    releases,
    checkpoints,
    breakStreams: (code) => {
      breakWith = code;
    },
  };
}
