import type { ServiceImpl } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import { AppendRecordSchema, BrokerService, decodeAppendRecordBatch, type AppendRequest, type Broker } from '@partq/proto';
import { PartqError, wrapServiceImpl, type ErrorCode } from '@partq/runtime';
import { key, type FakeClusterState } from './fake-cluster-state.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

export interface FakeBroker extends FakeServer {
  broker: Broker;
  /** Every Append received, refused ones included (records_data decoded into `records`). */
  appends: AppendRequest[];
  /** The next `times` appends fail with `code`, before any other check. */
  failNext(code: ErrorCode, times?: number): void;
  clearFailures(): void;
  /** The next append hangs until the caller gives up on it (a stopped process). */
  stallNext(): void;
}

/**
 * A broker that appends to the shared fake state, fenced like the real one: it refuses a partition
 * it does not own (NOT_OWNER) or an epoch other than the current one (STALE_EPOCH), and answers a
 * repeated (producer, sequence) with its original offset.
 */
export async function startFakeBroker(state: FakeClusterState): Promise<FakeBroker> {
  const appends: AppendRequest[] = [];
  const injected: (ErrorCode | 'STALL')[] = [];
  const sequences = new Map<string, bigint>();
  let self: Broker | undefined;

  const impl: Partial<ServiceImpl<typeof BrokerService>> = {
    async append(request, context) {
      if (request.records.length === 0) {
        request.records = decodeAppendRecordBatch(request.recordsData).map((r) =>
          create(AppendRecordSchema, {
            ...r,
            sequence: r.sequence === undefined ? undefined : BigInt(r.sequence),
            previousSequence: r.previousSequence === undefined ? undefined : BigInt(r.previousSequence),
          }),
        );
      }
      appends.push(request);
      state.appendRequests.push(request);
      const failure = injected.shift();
      if (failure === 'STALL') {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve, { once: true }));
        throw new PartqError('CANCELLED', 'the caller gave up');
      }
      if (failure) throw new PartqError(failure, `injected ${failure}`);
      const partition = state.partition(request.topicId, request.partitionId);
      if (partition.brokerId !== self!.id) throw new PartqError('NOT_OWNER', `broker ${self!.id} does not own ${key(request.topicId, request.partitionId)}`);
      if (partition.epoch !== request.epoch) throw new PartqError('STALE_EPOCH', `epoch ${request.epoch} is not the current ${partition.epoch}`);

      let baseOffset: bigint | undefined;
      const duplicates: { index: number; offset: bigint }[] = [];
      for (const [index, record] of request.records.entries()) {
        const dedupKey = record.sequence === undefined ? undefined : `${key(request.topicId, request.partitionId)}/${record.producerId}/${record.sequence}`;
        const original = dedupKey === undefined ? undefined : sequences.get(dedupKey);
        if (original !== undefined) {
          duplicates.push({ index, offset: original });
          continue;
        }
        const offset = state.append(request.topicId, request.partitionId, record.payload, record.key, record.producerId, record.sequence);
        if (dedupKey !== undefined) sequences.set(dedupKey, offset);
        baseOffset ??= offset;
      }
      return { baseOffset: baseOffset ?? 0n, duplicates };
    },
    async getOffsets(request) {
      return {
        endOffsets: request.partitions.map((p) => ({ topicId: p.topicId, partitionId: p.partitionId, offset: BigInt(state.log(p.topicId, p.partitionId).length) })),
      };
    },
  };

  const server = await startFakeServer((router) => router.service(BrokerService, wrapServiceImpl(impl)));
  self = state.addBroker(server.address);
  return {
    ...server,
    broker: self,
    appends,
    failNext(code, times = 1) {
      for (let i = 0; i < times; i++) injected.push(code);
    },
    stallNext() {
      injected.push('STALL');
    },
    clearFailures() {
      injected.length = 0;
    },
  };
}
