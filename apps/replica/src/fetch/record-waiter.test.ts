import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { FetchResponseSchema, PartitionSchema, RecordSchema, type FetchRequest } from '@partq/proto';
import { PartqError } from '@partq/runtime';
import type { BrokerClient, BrokerClientPool } from './broker-client-pool.js';
import { ReadAheadCache } from './read-ahead-cache.js';
import { RecordWaiter } from './record-waiter.js';
import { WaitRound } from './wait-round.js';
import { WalStarts } from './wal-starts.js';

type FetchAnswer = MessageInitShape<typeof FetchResponseSchema>;

const partition = create(PartitionSchema, { topicId: 1, partitionId: 0, brokerId: 1, epoch: 3 });
const silent = { debug: () => undefined };

/** A broker whose Fetch answers when the test says so (or fails), recording every call and cancel. */
class ScriptedBroker implements BrokerClientPool {
  readonly calls: { request: Partial<FetchRequest>; cancelled: boolean; answer(response: FetchAnswer): void; fail(error: unknown): void }[] = [];

  client(): BrokerClient {
    return {
      fetch: ((request: Partial<FetchRequest>, options?: { signal?: AbortSignal }) =>
        new Promise((resolve, reject) => {
          const call = {
            request,
            cancelled: false,
            answer: (response: FetchAnswer) => resolve(create(FetchResponseSchema, { records: [], endOffset: 0n, walStartOffset: 0n, ...response })),
            fail: reject,
          };
          options?.signal?.addEventListener('abort', () => {
            call.cancelled = true;
            reject(new Error('aborted'));
          });
          this.calls.push(call);
        })) as BrokerClient['fetch'],
      tail: (() => {
        throw new Error('not used');
      }) as BrokerClient['tail'],
      getOffsets: (() => Promise.reject(new Error('not used'))) as BrokerClient['getOffsets'],
    };
  }
}

function records(from: number, count: number) {
  return Array.from({ length: count }, (_, i) => create(RecordSchema, { offset: BigInt(from + i), payload: new Uint8Array([i]), timestampMs: 1n }));
}

describe('RecordWaiter', () => {
  let broker: ScriptedBroker;
  let cache: ReadAheadCache;
  let waiter: RecordWaiter;

  beforeEach(() => {
    broker = new ScriptedBroker();
    cache = new ReadAheadCache(1 << 20);
    waiter = new RecordWaiter({ brokers: broker, cache, walStarts: new WalStarts(), readAhead: 100, logger: silent });
  });

  afterEach(() => waiter.close());

  it('shares one long-poll between waiters at the same offset and puts its records in the cache', async () => {
    const a = waiter.wait(partition, 'b1', 5, 10_000, new WaitRound());
    const b = waiter.wait(partition, 'b1', 5, 10_000, new WaitRound());
    expect(broker.calls).toHaveLength(1);
    expect(broker.calls[0]!.request).toMatchObject({ offset: 5n, maxWaitMs: 10_000, maxRecords: 100 });
    expect(waiter.inFlight).toBe(1);
    broker.calls[0]!.answer({ records: records(5, 2) });
    expect(await a).toBe('cached');
    expect(await b).toBe('cached');
    expect(cache.get('1/0', 3, 5, 10)?.map((r) => r.offset)).toEqual([5, 6]);
    expect(waiter.inFlight).toBe(0);
  });

  it('keeps a long-poll nobody waits on for a moment, so a waiter coming back rejoins it', async () => {
    jest.useFakeTimers();
    try {
      const first = new WaitRound();
      const leaving = waiter.wait(partition, 'b1', 5, 10_000, first);
      first.end();
      expect(await leaving).toBe('idle');
      expect(broker.calls[0]!.cancelled).toBe(false);
      const back = waiter.wait(partition, 'b1', 5, 10_000, new WaitRound());
      expect(broker.calls).toHaveLength(1);
      broker.calls[0]!.answer({ records: records(5, 1) });
      expect(await back).toBe('cached');

      const other = new WaitRound();
      void waiter.wait(partition, 'b1', 6, 10_000, other);
      other.end();
      jest.advanceTimersByTime(2_000);
      expect(broker.calls[1]!.cancelled).toBe(true);
      expect(waiter.inFlight).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('says idle when the wait ran out, unavailable when the broker answered empty at once or failed', async () => {
    const started = Date.now();
    const timedOut = waiter.wait(partition, 'b1', 5, 150, new WaitRound());
    setTimeout(() => broker.calls[0]!.answer({ endOffset: 5n }), 150);
    expect(await timedOut).toBe('idle');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const early = waiter.wait(partition, 'b1', 5, 10_000, new WaitRound());
    broker.calls[1]!.answer({ endOffset: 5n });
    expect(await early).toBe('unavailable');

    const failing = waiter.wait(partition, 'b1', 5, 10_000, new WaitRound());
    broker.calls[2]!.fail(new PartqError('NOT_OWNER', 'moved'));
    expect(await failing).toBe('unavailable');
  });

  it('says at-source when the records at the offset are not in the answer (PostgreSQL has them)', async () => {
    const belowByAnswer = waiter.wait(partition, 'b1', 2, 10_000, new WaitRound());
    broker.calls[0]!.answer({ walStartOffset: 4n, endOffset: 9n });
    expect(await belowByAnswer).toBe('at-source');
    // The WAL start is known now: below it, nothing more is asked of that broker.
    expect(await waiter.wait(partition, 'b1', 3, 10_000, new WaitRound())).toBe('at-source');
    expect(broker.calls).toHaveLength(1);
    const belowByError = waiter.wait(partition, 'b2', 2, 10_000, new WaitRound());
    broker.calls[1]!.fail(new PartqError('OFFSET_OUT_OF_RANGE', 'below', { walStartOffset: 4 }));
    expect(await belowByError).toBe('at-source');
    expect(await waiter.wait(partition, 'b2', 2, 10_000, new WaitRound())).toBe('at-source');
    expect(broker.calls).toHaveLength(2);
    const gap = waiter.wait(partition, 'b3', 2, 10_000, new WaitRound());
    broker.calls[2]!.answer({ records: records(4, 2), walStartOffset: 4n, endOffset: 6n });
    expect(await gap).toBe('at-source');
    expect(cache.get('1/0', 3, 4, 10)).toBeUndefined();
  });
});
