import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@connectrpc/connect';
import { create } from '@bufbuild/protobuf';
import {
  Acks,
  AppendRecordSchema,
  BrokerService,
  decodeRecordBatch,
  encodeAppendRecordBatch,
  encodePartitionOffsets,
  PartitionAssignmentSchema,
  type AppendRecord,
  type AppendResponse,
  type PartitionRecords,
} from '@partq/proto';
import { closeRpcTransports, createLogger, createRpcClient, fromConnectError, loadConfig, PartqError, sleep } from '@partq/runtime';
import { startBroker, brokerConfigSpec, type BrokerConfig, type RunningBroker } from '../src/index.js';
import { PartitionLog } from '../src/log/partition-log.js';
import { FakeManager, type FakeAssignment } from './fake-manager.js';

const logger = createLogger({ role: 'broker-test', instanceId: 'integration', level: 'silent' });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function record(text: string, producerId = 0, sequence?: number, key?: string): AppendRecord {
  return create(AppendRecordSchema, {
    payload: encoder.encode(text),
    producerId,
    ...(sequence === undefined ? {} : { sequence: BigInt(sequence) }),
    ...(key === undefined ? {} : { key: encoder.encode(key) }),
  });
}

/** A GetUpdates partition's records (sent as the WAL's stored bytes). */
function recordsOf(partition: PartitionRecords) {
  return decodeRecordBatch(partition.recordsData);
}

/** An Append answer as an offset and a duplicate flag per request record. */
function expand(response: AppendResponse, count: number): { offsets: bigint[]; duplicates: boolean[] } {
  const duplicates = new Map(response.duplicates.map((d) => [d.index, d.offset]));
  let next = response.baseOffset;
  const offsets = Array.from({ length: count }, (_, i) => duplicates.get(i) ?? next++);
  return { offsets, duplicates: offsets.map((_, i) => duplicates.has(i)) };
}

function texts(records: { payload: Uint8Array }[]): string[] {
  return records.map((r) => decoder.decode(r.payload));
}

async function failureOf(promise: Promise<unknown>): Promise<PartqError> {
  try {
    await promise;
  } catch (error) {
    return fromConnectError(error);
  }
  throw new Error('expected the call to fail');
}

/** Polls `check` until it stops throwing (for effects of the background heartbeat). */
async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(20);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe('broker over Connect', () => {
  let dataDir: string;
  let manager: FakeManager;
  let broker: RunningBroker | undefined;
  let client: Client<typeof BrokerService>;

  function config(overrides: Partial<BrokerConfig> = {}): BrokerConfig {
    return { ...loadConfig(brokerConfigSpec, { argv: [], env: {} }), dataDir, managerUrl: manager.url, fsync: false, ...overrides };
  }

  /** (Re)starts the broker; the fake manager hands broker 1 these partitions. */
  async function start(assignments: FakeAssignment[], overrides: Partial<BrokerConfig> = {}): Promise<RunningBroker> {
    manager.assign(1, assignments);
    broker = await startBroker(config(overrides), { logger });
    client = createRpcClient(BrokerService, broker.url);
    return broker;
  }

  async function restart(assignments: FakeAssignment[], overrides: Partial<BrokerConfig> = {}): Promise<RunningBroker> {
    await broker?.stop();
    return start(assignments, overrides);
  }

  /** Appends as the gateway does: the records hand-encoded in records_data. */
  async function append(partitionId: number, epoch: number, records: AppendRecord[], acks = Acks.BROKER) {
    const response = await client.append({ topicId: 1, partitionId, epoch, acks, recordsData: encodeAppendRecordBatch(records) });
    return expand(response, records.length);
  }

  async function fetchTexts(partitionId: number, offset: number): Promise<string[]> {
    return texts((await client.fetch({ topicId: 1, partitionId, offset: BigInt(offset) })).records);
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'partq-broker-it-'));
    manager = await FakeManager.start();
    broker = undefined;
  });

  afterEach(async () => {
    await broker?.stop();
    await manager.close();
    closeRpcTransports();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('appends and fetches over Connect with contiguous offsets across batches', async () => {
    const running = await start([{ topicId: 1, partitionId: 0, epoch: 1, startOffset: 10 }]);
    expect(running.brokerId).toBe(1);
    const first = await append(0, 1, [record('a', 0, undefined, 'k1'), record('b')]);
    const second = await append(0, 1, [record('c')]);
    expect(first.offsets).toEqual([10n, 11n]);
    expect(first.duplicates).toEqual([false, false]);
    expect(second.offsets).toEqual([12n]);

    const fetched = await client.fetch({ topicId: 1, partitionId: 0, offset: 10n });
    expect(texts(fetched.records)).toEqual(['a', 'b', 'c']);
    expect(fetched.records.map((r) => r.offset)).toEqual([10n, 11n, 12n]);
    expect(decoder.decode(fetched.records[0]!.key)).toBe('k1');
    expect(fetched.records[1]!.key).toBeUndefined();
    expect(fetched.endOffset).toBe(13n);
    expect(fetched.walStartOffset).toBe(10n);
    expect(texts((await client.fetch({ topicId: 1, partitionId: 0, offset: 11n, maxRecords: 1 })).records)).toEqual(['b']);

    const atEnd = await client.fetch({ topicId: 1, partitionId: 0, offset: 13n });
    expect(atEnd.records).toEqual([]);
    expect(atEnd.endOffset).toBe(13n);
    expect((await failureOf(client.fetch({ topicId: 1, partitionId: 0, offset: 14n }))).code).toBe('OFFSET_OUT_OF_RANGE');
    const below = await failureOf(client.fetch({ topicId: 1, partitionId: 0, offset: 3n }));
    expect(below.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(below.details).toMatchObject({ walStartOffset: 10 });

    const offsets = await client.getOffsets({ partitions: [{ topicId: 1, partitionId: 0 }] });
    expect(offsets.endOffsets.map((o) => [o.topicId, o.partitionId, o.offset])).toEqual([[1, 0, 13n]]);
  });

  it('answers a Fetch under the epoch it names only when the log is settled in it, and moves with the new epoch', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('a'), record('b')]);
    const fetch = (epoch: number, maxWaitMs = 0) => client.fetch({ topicId: 1, partitionId: 0, offset: 0n, epoch, maxWaitMs });
    expect(texts((await fetch(1)).records)).toEqual(['a', 'b']);
    // 0: an older reader, not checked.
    expect(texts((await fetch(0)).records)).toEqual(['a', 'b']);
    expect((await failureOf(fetch(2))).code).toBe('STALE_EPOCH');
    // Taken over at epoch 2 with nothing committed: the log is cut back to 0 before epoch 2 reads it.
    manager.assign(1, [{ topicId: 1, partitionId: 0, epoch: 2 }]);
    await eventually(async () => expect((await failureOf(fetch(1))).code).toBe('STALE_EPOCH'));
    expect((await fetch(2)).records).toEqual([]);
    // A long-poll under the old epoch is refused at once, not after its wait.
    const started = Date.now();
    expect((await failureOf(fetch(1, 5_000))).code).toBe('STALE_EPOCH');
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('answers a Fetch that accepts records_data with the stored record bytes, the same records as `records`', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1, startOffset: 10 }]);
    await append(0, 1, [record('a', 0, undefined, 'k1'), record('b'), record('c')]);
    const objects = await client.fetch({ topicId: 1, partitionId: 0, offset: 11n });
    const bytes = await client.fetch({ topicId: 1, partitionId: 0, offset: 11n, acceptRecordsData: true });
    expect(bytes.records).toEqual([]);
    const decoded = decodeRecordBatch(bytes.recordsData);
    expect(decoded.map((r) => [r.offset, decoder.decode(r.payload), r.timestampMs])).toEqual(
      objects.records.map((r) => [Number(r.offset), decoder.decode(r.payload), Number(r.timestampMs)]),
    );
    expect([bytes.endOffset, bytes.walStartOffset]).toEqual([13n, 10n]);
    const withKey = await client.fetch({ topicId: 1, partitionId: 0, offset: 10n, maxRecords: 1, acceptRecordsData: true });
    expect(decodeRecordBatch(withKey.recordsData).map((r) => decoder.decode(r.key))).toEqual(['k1']);
    const atEnd = await client.fetch({ topicId: 1, partitionId: 0, offset: 13n, acceptRecordsData: true });
    expect([atEnd.recordsData.byteLength, atEnd.endOffset]).toEqual([0, 13n]);
    expect((await failureOf(client.fetch({ topicId: 1, partitionId: 0, offset: 3n, acceptRecordsData: true }))).code).toBe('OFFSET_OUT_OF_RANGE');
  });

  it('fences by epoch and ownership, and refuses empty batches', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 3 }]);
    const stale = await failureOf(append(0, 2, [record('x')]));
    expect(stale.code).toBe('STALE_EPOCH');
    expect(stale.details).toEqual({ currentEpoch: 3 });
    expect((await failureOf(append(5, 3, [record('x')]))).code).toBe('NOT_OWNER');
    expect((await failureOf(client.fetch({ topicId: 1, partitionId: 5, offset: 0n }))).code).toBe('NOT_OWNER');
    expect((await failureOf(client.getOffsets({ partitions: [{ topicId: 1, partitionId: 5 }] }))).code).toBe('NOT_OWNER');
    expect((await failureOf(append(0, 3, []))).code).toBe('INVALID_ARGUMENT');
    expect((await client.fetch({ topicId: 1, partitionId: 0, offset: 0n })).endOffset).toBe(0n);
  });

  it('refuses a batch with an oversized record and writes nothing of it', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { maxMessageBytes: 100 });
    await append(0, 1, [record('first')]);
    const tooLarge = await failureOf(append(0, 1, [record('ok'), record('y'.repeat(101))]));
    expect(tooLarge.code).toBe('PAYLOAD_TOO_LARGE');
    expect(tooLarge.details).toMatchObject({ index: 1, maxMessageBytes: 100 });
    expect(await fetchTexts(0, 0)).toEqual(['first']);
    expect((await append(0, 1, [record('z'.repeat(100))])).offsets).toEqual([1n]);
  });

  it('takes AppendRecord objects too, and refuses malformed records_data with INVALID_ARGUMENT, writing nothing', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    const objects = await client.append({ topicId: 1, partitionId: 0, epoch: 1, records: [record('a'), record('b')] });
    expect(expand(objects, 2).offsets).toEqual([0n, 1n]);
    const valid = encodeAppendRecordBatch([record('c')]);
    for (const recordsData of [valid.subarray(0, valid.length - 1), Buffer.from([0x0a, 0x05, 0x0a]), Buffer.from([0x08, 0xff])]) {
      const refused = await failureOf(client.append({ topicId: 1, partitionId: 0, epoch: 1, recordsData }));
      expect(refused.code).toBe('INVALID_ARGUMENT');
    }
    expect(await fetchTexts(0, 0)).toEqual(['a', 'b']);
  });

  it('returns the original offset for a duplicate, also across a restart', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('s0', 42, 0), record('s1', 42, 1)]);
    const retried = await append(0, 1, [record('s1', 42, 1), record('s2', 42, 2)]);
    expect(retried.offsets).toEqual([1n, 2n]);
    expect(retried.duplicates).toEqual([true, false]);

    await restart([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    const afterRestart = await append(0, 1, [record('s2', 42, 2), record('s3', 42, 3)]);
    expect(afterRestart.offsets).toEqual([2n, 3n]);
    expect(afterRestart.duplicates).toEqual([true, false]);
    expect(await fetchTexts(0, 0)).toEqual(['s0', 's1', 's2', 's3']);
  });

  it('forgets an idle producer after the producer expiry and says so in its metrics', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { producerExpiry: 1000 });
    const states = async () => Number(/partq_broker_producer_states\{[^}]*\} (\d+)/.exec(await (await fetch(`${broker!.url}/metrics`)).text())![1]);
    await append(0, 1, [record('s0', 42, 0), record('t0', 43, 0)]);
    expect(await states()).toBe(2);
    // Producer 43 keeps appending; 42 goes idle.
    const keepAlive = setInterval(() => void append(0, 1, [record('t', 43, Date.now())]).catch(() => undefined), 200);
    try {
      await eventually(async () => expect(await states()).toBe(1), 5_000);
    } finally {
      clearInterval(keepAlive);
    }
    const metrics = await (await fetch(`${broker!.url}/metrics`)).text();
    expect(metrics).toMatch(/partq_broker_expired_producers_total\{[^}]*\} 1/);
    // 43 is still known: its retry is a duplicate. 42's is not: it lands again, as Kafka's would.
    expect((await append(0, 1, [record('t0', 43, 0)])).duplicates).toEqual([true]);
    expect((await append(0, 1, [record('s0', 42, 0)])).duplicates).toEqual([false]);
  });

  it('keeps acked records across a restart at the same epoch, also beyond the high watermark', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('a'), record('b'), record('c'), record('d')]);
    await restart([{ topicId: 1, partitionId: 0, epoch: 1, startOffset: 0, highWatermark: 1 }]);

    const registration = manager.registrations[manager.registrations.length - 1]!;
    expect(registration.brokerId).toBe(1);
    expect(registration.address).toBe(broker!.url);
    expect(registration.endOffsets.map((o) => [o.topicId, o.partitionId, o.offset])).toEqual([[1, 0, 4n]]);
    expect((await client.fetch({ topicId: 1, partitionId: 0, offset: 1n })).endOffset).toBe(4n);
    expect(await fetchTexts(0, 1)).toEqual(['b', 'c', 'd']);
    expect((await append(0, 1, [record('e')])).offsets).toEqual([4n]);
  });

  it('truncates to the start offset when the partition comes back at a new epoch', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('a'), record('b'), record('c'), record('d')]);
    await restart([{ topicId: 1, partitionId: 0, epoch: 2, startOffset: 2 }]);

    const fetched = await client.fetch({ topicId: 1, partitionId: 0, offset: 0n });
    expect(texts(fetched.records)).toEqual(['a', 'b']);
    expect(fetched.endOffset).toBe(2n);
    expect((await failureOf(append(0, 1, [record('old')]))).code).toBe('STALE_EPOCH');
    expect((await append(0, 2, [record('new')])).offsets).toEqual([2n]);
  });

  it('answers a GetUpdates long-poll when records arrive, with the epoch', async () => {
    await start([
      { topicId: 1, partitionId: 0, epoch: 5 },
      { topicId: 1, partitionId: 1, epoch: 2 },
    ]);
    const poll = client.getUpdates({
      from: [
        { topicId: 1, partitionId: 0, offset: 0n },
        { topicId: 1, partitionId: 1, offset: 0n },
        { topicId: 9, partitionId: 0, offset: 0n },
      ],
      maxWaitMs: 30_000,
      maxRecords: 100,
      minRecords: 2,
    });
    await append(0, 5, [record('a'), record('b')]);
    const updates = await poll;
    const byPartition = new Map(updates.partitions.map((p) => [p.partitionId, p]));
    // Partition 1 has nothing to sync and topic 9 is not owned here: neither is in the answer.
    expect(updates.partitions.map((p) => p.partitionId)).toEqual([0]);
    expect(byPartition.get(0)!.epoch).toBe(5);
    expect(texts(recordsOf(byPartition.get(0)!))).toEqual(['a', 'b']);

    const quiet = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 2n }], maxWaitMs: 20, minRecords: 1 });
    expect(quiet.partitions).toEqual([]);
  });

  it('acks=all answers after the manager commits; the commit trims the WAL', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { segmentBytes: 4096, retainBytes: 0 });
    const payload = 'p'.repeat(1000);
    for (let i = 0; i < 10; i++) await append(0, 1, [record(payload)]);

    let acked = false;
    const acksAll = append(0, 1, [record('must-commit')], Acks.ALL).then((answer) => {
      acked = true;
      return answer;
    });
    // A waiting acks=all append makes the long-poll answer at once, although min_records is far away.
    const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 0n }], maxWaitMs: 30_000, maxRecords: 100, minRecords: 1000 });
    const records = recordsOf(updates.partitions[0]!);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect(acked).toBe(false);

    await client.commit({ committed: [{ topicId: 1, partitionId: 0, offset: 11n }] });
    expect((await acksAll).offsets).toEqual([10n]);
    // Everything is committed: the WAL lets go of all of it (it keeps its offsets).
    const fetched = await client.fetch({ topicId: 1, partitionId: 0, offset: 11n });
    expect(fetched.records).toEqual([]);
    expect(fetched.walStartOffset).toBe(11n);
    const trimmed = await failureOf(client.fetch({ topicId: 1, partitionId: 0, offset: 0n }));
    expect(trimmed.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(trimmed.details).toMatchObject({ walStartOffset: Number(fetched.walStartOffset) });
  });

  /** The manager's GetUpdates over partitions 0 and 1 of topic 1, committed up to `from`. */
  const updatesOfFirstTwo = (from: [bigint, bigint], options: { maxWaitMs: number; minRecords: number }) =>
    client.getUpdates({ from: from.map((offset, partitionId) => ({ topicId: 1, partitionId, offset })), ...options });

  it('the next GetUpdates releases acks=all sends: its `from` is what the manager committed, as a Commit would say', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }, { topicId: 1, partitionId: 1, epoch: 1 }]);
    const first = append(0, 1, [record('a')], Acks.ALL);
    const second = append(1, 1, [record('b')], Acks.ALL);
    const updates = await updatesOfFirstTwo([0n, 0n], { maxWaitMs: 30_000, minRecords: 2 });
    expect(updates.partitions.map((p) => texts(recordsOf(p)))).toEqual([['a'], ['b']]);

    // The manager's next round: both partitions committed up to 1, then a long-poll that waits.
    const next = updatesOfFirstTwo([1n, 1n], { maxWaitMs: 30_000, minRecords: 1 });
    expect((await first).offsets).toEqual([0n]);
    expect((await second).offsets).toEqual([0n]);
    await append(0, 1, [record('c')]);
    expect((await next).partitions.map((p) => texts(recordsOf(p)))).toEqual([['c']]);
  });

  it('a partition being moved away makes the GetUpdates long-poll answer at once with its last records', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }, { topicId: 1, partitionId: 1, epoch: 1 }]);
    await append(0, 1, [record('a'), record('b')]);
    const poll = updatesOfFirstTwo([0n, 0n], { maxWaitMs: 60_000, minRecords: 1000 });
    let answered = false;
    void poll.then(() => (answered = true));
    // Far from min_records, nobody waiting on acks=all: the long-poll holds.
    await append(1, 1, [record('c')]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);

    // The manager fences partition 0 to move it: the records it must commit before the hand-over go now.
    const fenced = [{ topicId: 1, partitionId: 0, epoch: 1, fenced: true }, { topicId: 1, partitionId: 1, epoch: 1 }];
    manager.assign(1, fenced);
    await client.assign({
      assignments: fenced.map((a) => create(PartitionAssignmentSchema, { ...a, startOffset: 0n, highWatermark: 0n })),
      complete: true,
    });
    expect((await failureOf(append(0, 1, [record('refused')]))).code).toBe('NOT_OWNER');
    const updates = await poll;
    expect(updates.partitions.map((p) => texts(recordsOf(p)))).toEqual([['a', 'b'], ['c']]);

    // Committed, the fenced partition has nothing pending: the next round waits as any other.
    const quiet = await updatesOfFirstTwo([2n, 1n], { maxWaitMs: 50, minRecords: 1000 });
    expect(quiet.partitions).toEqual([]);
  });

  it('reads the packed from_data as it reads `from`; a malformed one is refused and releases nothing', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }, { topicId: 1, partitionId: 1, epoch: 3 }]);
    const acksAll = append(0, 1, [record('a')], Acks.ALL);
    await append(1, 3, [record('b'), record('c')]);
    const packed = (offsets: number[]): Uint8Array =>
      encodePartitionOffsets(offsets.map((offset, partitionId) => ({ topicId: 1, partitionId, offset })));
    const updates = await client.getUpdates({ fromData: packed([0, 1]), maxWaitMs: 30_000, minRecords: 2 });
    expect(updates.partitions.map((p) => [p.partitionId, p.epoch, texts(recordsOf(p))])).toEqual([
      [0, 1, ['a']],
      [1, 3, ['c']],
    ]);

    // Cut inside its last entry: INVALID_ARGUMENT, and partition 0's commit to 1 is not applied.
    const truncated = packed([1, 2]).subarray(0, -1);
    const refused = await failureOf(client.getUpdates({ fromData: truncated, maxWaitMs: 0 }));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    const stillWaiting = await Promise.race([acksAll.then(() => 'acknowledged'), sleep(100).then(() => 'waiting')]);
    expect(stillWaiting).toBe('waiting');

    const next = await client.getUpdates({ fromData: packed([1, 3]), maxWaitMs: 0 });
    expect(next.partitions).toEqual([]);
    expect((await acksAll).offsets).toEqual([0n]);
  });

  it('keeps the newest committed records (PARTQ_BROKER_RETAIN_BYTES) for consumers a little behind', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { segmentBytes: 4096, retainBytes: 8192 });
    const payload = 'p'.repeat(1000);
    for (let i = 0; i < 20; i++) await append(0, 1, [record(`${i}-${payload}`)]);
    await client.commit({ committed: [{ topicId: 1, partitionId: 0, offset: 20n }] });
    const walStart = Number((await client.fetch({ topicId: 1, partitionId: 0, offset: 20n })).walStartOffset);
    // Whole segments that the newest 8 KiB need are kept; the older ones went.
    expect(walStart).toBeGreaterThan(0);
    expect(walStart).toBeLessThanOrEqual(20 - 8);
    const kept = await client.fetch({ topicId: 1, partitionId: 0, offset: BigInt(walStart), maxRecords: 100 });
    expect(kept.records.map((r) => Number(r.offset))).toEqual(Array.from({ length: 20 - walStart }, (_, i) => walStart + i));
  });

  it('acks=all fails with UNAVAILABLE when the manager does not commit in time', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { acksAllTimeout: 50 });
    expect((await failureOf(append(0, 1, [record('x')], Acks.ALL))).code).toBe('UNAVAILABLE');
    // The record is written all the same (a retry with its sequence would find it) and the manager's
    // sync takes it, but readers see it only once it is committed.
    const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 0n }], maxWaitMs: 0 });
    expect(texts(recordsOf(updates.partitions[0]!))).toEqual(['x']);
    const fetched = await client.fetch({ topicId: 1, partitionId: 0, offset: 0n });
    expect([fetched.records, fetched.endOffset]).toEqual([[], 0n]);
  });

  it('readers see an acks=all record once the manager has committed it, and not before', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('broker-0')]);
    const acksAll = append(0, 1, [record('all-1')], Acks.ALL);
    // A long-poll at the end of what readers see: it must not answer with the uncommitted record.
    const longPoll = client.fetch({ topicId: 1, partitionId: 0, offset: 1n, maxWaitMs: 30_000 });
    const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 0n }], maxWaitMs: 30_000, minRecords: 2 });
    expect(texts(recordsOf(updates.partitions[0]!))).toEqual(['broker-0', 'all-1']);
    const early = await client.fetch({ topicId: 1, partitionId: 0, offset: 0n });
    expect([texts(early.records), early.endOffset]).toEqual([['broker-0'], 1n]);

    await client.commit({ committed: [{ topicId: 1, partitionId: 0, offset: 1n }] });
    await client.commit({ committed: [{ topicId: 1, partitionId: 0, offset: 2n }] });
    expect((await acksAll).offsets).toEqual([1n]);
    // The commit wakes the long-poll with the record (or the WAL let go of it: it is in PostgreSQL).
    const woken = await longPoll.then(
      (answer) => texts(answer.records),
      (error: unknown) => fromConnectError(error).code,
    );
    expect([['all-1'], 'OFFSET_OUT_OF_RANGE']).toContainEqual(woken);
  });

  it('follows heartbeat answers: new partitions appear, dropped ones are deleted', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('a')]);
    manager.assign(1, [{ topicId: 1, partitionId: 1, epoch: 1, startOffset: 7 }]);
    await eventually(async () => expect((await append(1, 1, [record('b')])).offsets).toEqual([7n]));
    await eventually(async () => expect((await failureOf(append(0, 1, [record('c')]))).code).toBe('NOT_OWNER'));
    await eventually(async () => expect(await exists(join(dataDir, 'partitions', '1-0'))).toBe(false));
  });

  it('applies Assign from the manager', async () => {
    await start([]);
    const assignment = { topicId: 1, partitionId: 3, epoch: 4, startOffset: 20 };
    manager.assign(1, [assignment]);
    await client.assign({
      assignments: [create(PartitionAssignmentSchema, { ...assignment, startOffset: 20n, highWatermark: 20n })],
      complete: false,
    });
    expect((await append(3, 4, [record('x')])).offsets).toEqual([20n]);
  });

  it('registers again, under its remembered id, when the manager forgot it', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    expect(manager.registrations).toHaveLength(1);
    manager.forgetBrokers();
    await eventually(() => expect(manager.registrations.length).toBeGreaterThanOrEqual(2));
    expect(manager.registrations[1]!.brokerId).toBe(1);
  });

  it('after its process stalled, refuses appends until the manager answers a heartbeat sent after the stall', async () => {
    // Heartbeats a minute apart: one that comes within the test was asked for by the stall.
    await manager.close();
    manager = await FakeManager.start(60_000);
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { stallFence: 300 });
    await append(0, 1, [record('a', 42, 0)]);
    const release = manager.holdHeartbeats();
    const heartbeatsBefore = manager.heartbeats.length;
    // Freeze this process (the broker runs in it) as SIGSTOP or a paused VM would.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
    const refused = await failureOf(append(0, 1, [record('b', 42, 1)]));
    expect(refused.code).toBe('UNAVAILABLE');
    // It asked the manager at once rather than after the interval, and waits for the answer.
    await eventually(() => expect(manager.heartbeats.length).toBe(heartbeatsBefore + 1), 5_000);
    expect((await failureOf(append(0, 1, [record('b', 42, 1)]))).code).toBe('UNAVAILABLE');
    expect(await (await fetch(`${broker!.url}/metrics`)).text()).toMatch(/partq_broker_stall_fenced\{[^}]*\} 1/);
    release();
    await eventually(async () => expect((await append(0, 1, [record('b', 42, 1)])).offsets).toEqual([1n]));
    expect(await fetchTexts(0, 0)).toEqual(['a', 'b']);
    const metrics = await (await fetch(`${broker!.url}/metrics`)).text();
    expect(metrics).toMatch(/partq_broker_stall_fenced\{[^}]*\} 0/);
    expect(metrics).toMatch(/partq_broker_stalls_total\{[^}]*\} 1/);
    // The wake-up was spent: no second heartbeat before the interval.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(manager.heartbeats.length).toBe(heartbeatsBefore + 1);
  });

  it('an append frozen between its write and its answer is refused, and readers see its records only once a retry is answered', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { stallFence: 300 });
    await append(0, 1, [record('a', 42, 0)]);
    // Freeze the process right after the next append's WAL write, before its answer, as a SIGSTOP landing
    // there would: no test can time a real one that finely.
    const write = PartitionLog.prototype.append;
    const frozen = jest.spyOn(PartitionLog.prototype, 'append').mockImplementationOnce(async function (this: PartitionLog, ...args) {
      const outcome = await write.apply(this, args);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
      return outcome;
    });
    try {
      expect((await failureOf(append(0, 1, [record('b', 42, 1)]))).code).toBe('UNAVAILABLE');
    } finally {
      frozen.mockRestore();
    }
    // Durable, but its producer was told nothing and sends it again, maybe to the partition's next owner:
    // a reader that saw it here could get it twice.
    expect(await fetchTexts(0, 0)).toEqual(['a']);
    const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 1n }], maxWaitMs: 0 });
    expect(texts(recordsOf(updates.partitions[0]!))).toEqual(['b']);
    // Once the manager confirmed the partitions, the retry lands on the stored record and shows it.
    await eventually(async () => expect((await append(0, 1, [record('b', 42, 1)])).offsets).toEqual([1n]));
    await eventually(async () => expect(await fetchTexts(0, 0)).toEqual(['a', 'b']));
  });

  it('a stall during which the manager moved the partition on: the queued append is refused, then NOT_OWNER', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { stallFence: 300 });
    await append(0, 1, [record('a')]);
    const release = manager.holdHeartbeats();
    manager.assign(1, []); // declared dead meanwhile: the partition went to another broker
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
    expect((await failureOf(append(0, 1, [record('zombie')]))).code).toBe('UNAVAILABLE');
    release();
    await eventually(async () => expect((await failureOf(append(0, 1, [record('zombie')]))).code).toBe('NOT_OWNER'));
  });

  it('keeps serving its partitions while the manager is unreachable, and reports not ready', async () => {
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }]);
    await append(0, 1, [record('a')]);
    await broker!.stop();
    await manager.close();

    broker = await startBroker(config(), { logger, awaitRegistration: false });
    client = createRpcClient(BrokerService, broker.url);
    expect(await fetchTexts(0, 0)).toEqual(['a']);
    expect((await append(0, 1, [record('b')])).offsets).toEqual([1n]);
    expect((await fetch(`${broker.url}/readyz`)).status).toBe(503);
    expect(broker.brokerId).toBe(1); // remembered in broker.json

    manager = await FakeManager.start(50, Number(new URL(manager.url).port));
    manager.assign(1, [{ topicId: 1, partitionId: 0, epoch: 1 }]);
    expect(await broker.registered).toBe(1);
    expect((await fetch(`${broker.url}/readyz`)).status).toBe(200);
  });

  it('stops gracefully: a pending long-poll answers, a waiting acks=all append fails UNAVAILABLE', async () => {
    await start([
      { topicId: 1, partitionId: 0, epoch: 1 },
      { topicId: 1, partitionId: 1, epoch: 1 },
    ]);
    await append(0, 1, [record('a')]);
    const acksAll = failureOf(append(0, 1, [record('b')], Acks.ALL));
    const poll = client.getUpdates({ from: [{ topicId: 1, partitionId: 1, offset: 0n }], maxWaitMs: 30_000, minRecords: 1 });
    await eventually(async () => {
      const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 0n }] });
      expect(recordsOf(updates.partitions[0]!).length).toBe(2);
    });
    await broker!.stop();
    expect((await poll).partitions).toEqual([]);
    expect((await acksAll).code).toBe('UNAVAILABLE');

    broker = await startBroker(config(), { logger });
    client = createRpcClient(BrokerService, broker.url);
    // The acks=all record stayed in the log for the manager's sync; restarted or not, readers see it only once committed.
    expect(await fetchTexts(0, 0)).toEqual(['a']);
    const updates = await client.getUpdates({ from: [{ topicId: 1, partitionId: 0, offset: 0n }] });
    expect(recordsOf(updates.partitions[0]!).length).toBe(2);
  });

  it('refuses a second broker on the same data directory', async () => {
    await start([]);
    await expect(startBroker(config(), { logger })).rejects.toMatchObject({ code: 'DATA_DIR_LOCKED' });
  });

  it('exports its metrics', async () => {
    // fsync on (the tests default to off for speed): the group commit is timed and counted.
    await start([{ topicId: 1, partitionId: 0, epoch: 1 }], { fsync: true });
    await append(0, 1, [record('a'), record('b')]);
    const text = await (await fetch(`${broker!.url}/metrics`)).text();
    expect(text).toMatch(/partq_broker_appended_records_total\{[^}]*topic_id="1"[^}]*partition="0"[^}]*\} 2/);
    expect(text).toMatch(/partq_broker_append_batch_size_count\{[^}]*\} 1/);
    expect(text).toMatch(/partq_broker_owned_partitions\{[^}]*\} 1/);
    expect(text).toContain('partq_broker_wal_fsyncs_total');
    expect(text).toMatch(/partq_broker_wal_fsync_seconds_count\{[^}]*\} [1-9]/);
    expect(text).toMatch(/partq_broker_wal_group_commit_records_sum\{[^}]*\} 2/);
  });
});
