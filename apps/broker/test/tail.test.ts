import { create } from '@bufbuild/protobuf';
import { Acks, AppendRecordSchema, decodeRecordBatch, type TailResponse } from '@partq/proto';
import { fromConnectError } from '@partq/runtime';
import { TestBroker, TWO_PARTITIONS } from './test-broker.js';

// The Tail stream over Connect against a real broker: records pushed as they become durable, in
// order, and an end the follower can act on when the partition moves.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let test: TestBroker;

beforeEach(async () => {
  test = await TestBroker.start(TWO_PARTITIONS);
});

afterEach(() => test.stop());

const append = (partitionId: number, ...texts: string[]): Promise<unknown> => test.append(partitionId, ...texts);

/** Reads a tail in the background: every response, and how the stream ended ('OK', 'CANCELLED' or a code). */
class TailReader {
  readonly responses: TailResponse[] = [];
  readonly ended: Promise<string>;
  private readonly controller = new AbortController();

  constructor(request: { partitionId: number; offset: bigint; maxRecords?: number; acceptRecordsData?: boolean; epoch?: number }) {
    const call = test.client.tail({ topicId: 1, ...request }, { signal: this.controller.signal });
    this.ended = (async () => {
      try {
        for await (const response of call) this.responses.push(response);
        return 'OK';
      } catch (error) {
        return this.controller.signal.aborted ? 'CANCELLED' : fromConnectError(error).code;
      }
    })();
  }

  /** Offset and text of every record pushed, from `records` or from records_data. */
  get records(): [number, string][] {
    return this.responses.flatMap((response) =>
      response.records.length > 0
        ? response.records.map((r): [number, string] => [Number(r.offset), decoder.decode(r.payload)])
        : decodeRecordBatch(response.recordsData).map((r): [number, string] => [r.offset, decoder.decode(r.payload)]),
    );
  }

  async waitFor(count: number): Promise<[number, string][]> {
    const deadline = Date.now() + 5_000;
    while (this.records.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} records on the tail, got ${this.records.length}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.records;
  }

  cancel(): Promise<string> {
    this.controller.abort();
    return this.ended;
  }
}

it('pushes what the log holds from the offset, then each append as it becomes durable, in order', async () => {
  await append(0, 'a', 'b', 'c');
  const tail = new TailReader({ partitionId: 0, offset: 1n, maxRecords: 1 });
  expect(await tail.waitFor(2)).toEqual([
    [1, 'b'],
    [2, 'c'],
  ]);
  // Appends to another partition push nothing here.
  await append(1, 'elsewhere');
  await append(0, 'd');
  await append(0, 'e', 'f');
  expect(await tail.waitFor(5)).toEqual([
    [1, 'b'],
    [2, 'c'],
    [3, 'd'],
    [4, 'e'],
    [5, 'f'],
  ]);
  expect(tail.records).toHaveLength(5);
  // max_records bounds each response.
  expect(tail.responses.every((response) => response.records.length === 1)).toBe(true);
  expect(tail.responses[tail.responses.length - 1]!.endOffset).toBe(6n);
  expect(await tail.cancel()).toBe('CANCELLED');
});

it('pushes the stored records in records_data to a reader that accepts it: the same records as `records`', async () => {
  await append(0, 'a', 'b');
  const bytes = new TailReader({ partitionId: 0, offset: 0n, acceptRecordsData: true });
  const objects = new TailReader({ partitionId: 0, offset: 0n });
  await append(0, 'c');
  const expected: [number, string][] = [
    [0, 'a'],
    [1, 'b'],
    [2, 'c'],
  ];
  expect(await bytes.waitFor(3)).toEqual(expected);
  expect(await objects.waitFor(3)).toEqual(expected);
  const withRecords = bytes.responses.filter((r) => r.recordsData.byteLength > 0);
  expect(withRecords.length).toBeGreaterThan(0);
  expect(bytes.responses.every((r) => r.records.length === 0)).toBe(true);
  expect(objects.responses.every((r) => r.recordsData.byteLength === 0)).toBe(true);
  // Field for field what `records` says (timestamps, producer ids and all).
  const fromBytes = bytes.responses.flatMap((r) => decodeRecordBatch(r.recordsData));
  const fromObjects = objects.responses.flatMap((r) => r.records);
  expect(fromBytes.map((r) => [r.offset, r.timestampMs, r.producerId])).toEqual(fromObjects.map((r) => [Number(r.offset), Number(r.timestampMs), r.producerId]));
  const last = bytes.responses[bytes.responses.length - 1]!;
  expect(last.endOffset).toBe(3n);
  expect(await bytes.cancel()).toBe('CANCELLED');
  expect(await objects.cancel()).toBe('CANCELLED');
});

it('refuses a negative offset, an offset past the end and a partition it does not own, with stable codes', async () => {
  await append(0, 'a');
  expect(await new TailReader({ partitionId: 0, offset: -1n }).ended).toBe('INVALID_ARGUMENT');
  expect(await new TailReader({ partitionId: 0, offset: 5n }).ended).toBe('OFFSET_OUT_OF_RANGE');
  expect(await new TailReader({ partitionId: 7, offset: 0n }).ended).toBe('NOT_OWNER');
});

it('opens under the epoch the reader names only when the log is settled in it: STALE_EPOCH otherwise', async () => {
  await append(0, 'a');
  expect(await new TailReader({ partitionId: 0, offset: 0n, epoch: 2 }).ended).toBe('STALE_EPOCH');
  const named = new TailReader({ partitionId: 0, offset: 0n, epoch: 1 });
  const unnamed = new TailReader({ partitionId: 0, offset: 0n });
  expect(await named.waitFor(1)).toEqual([[0, 'a']]);
  expect(await unnamed.waitFor(1)).toEqual([[0, 'a']]);
  await Promise.all([named.cancel(), unnamed.cancel()]);
});

it('ends when the partition moves to a new epoch, and with NOT_OWNER once it is gone', async () => {
  const moved = new TailReader({ partitionId: 0, offset: 0n });
  const removed = new TailReader({ partitionId: 1, offset: 0n });
  await append(0, 'a');
  await moved.waitFor(1);
  test.manager.assign(1, [{ topicId: 1, partitionId: 0, epoch: 2 }]);
  // The next append wakes the tails; the new epoch's records are not pushed under the old one.
  const deadline = Date.now() + 5_000;
  const outcomes = Promise.all([moved.ended, removed.ended]);
  while (Date.now() < deadline && (await Promise.race([outcomes.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))])) === false) {
    await test.client.append({ topicId: 1, partitionId: 0, epoch: 2, acks: Acks.BROKER, records: [create(AppendRecordSchema, { payload: encoder.encode('x') })] }).catch(() => undefined);
  }
  expect(await moved.ended).toBe('OK');
  expect(moved.records).toEqual([[0, 'a']]);
  expect(['OK', 'NOT_OWNER']).toContain(await removed.ended);
});

it('ends its tails when the broker stops', async () => {
  const tail = new TailReader({ partitionId: 0, offset: 0n });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await test.broker.stop();
  expect(['OK', 'UNAVAILABLE']).toContain(await tail.ended);
  expect(Date.now() - started).toBeLessThan(5_000);
});

it('sends an empty response every tailHeartbeat while the partition is quiet', async () => {
  await test.restart(['--tail-heartbeat', '150ms']);
  await append(0, 'a');
  const tail = new TailReader({ partitionId: 0, offset: 0n });
  await tail.waitFor(1);
  const quietSince = Date.now();
  const heartbeats = () => tail.responses.filter((response) => response.records.length === 0);
  const deadline = quietSince + 10_000;
  while (heartbeats().length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(heartbeats().length).toBeGreaterThanOrEqual(2);
  // Not sooner than one heartbeat interval apart.
  expect(Date.now() - quietSince).toBeGreaterThanOrEqual(2 * 150 - 20);
  expect(heartbeats().every((response) => response.endOffset === 1n)).toBe(true);
  await append(0, 'b');
  expect(await tail.waitFor(2)).toEqual([
    [0, 'a'],
    [1, 'b'],
  ]);
  await tail.cancel();
});
