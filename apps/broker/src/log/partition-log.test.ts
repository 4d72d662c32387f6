import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { create } from '@bufbuild/protobuf';
import { AppendRecordSchema, decodeRecord, type AppendRecord } from '@partq/proto';
import { createLogger, PartqError } from '@partq/runtime';
import { PartitionLog, type AppendOutcome, type PartitionLogSettings } from './partition-log.js';

const logger = createLogger({ role: 'broker-test', instanceId: 'partition-log', level: 'silent' });
const settings: PartitionLogSettings = { segmentBytes: 4096, fsync: false, cacheBytes: 1024, logger };
/** Every commit that reaches the end lets the whole WAL go. */
const trimAll: PartitionLogSettings = { ...settings, trimRollBytes: 0 };

function record(text: string, producerId = 0, sequence?: number): AppendRecord {
  return create(AppendRecordSchema, {
    payload: new TextEncoder().encode(text),
    producerId,
    ...(sequence === undefined ? {} : { sequence: BigInt(sequence) }),
  });
}

/** A record that names its producer's previous sequence on the partition. */
function after(previous: number, text: string, producerId: number, sequence: number): AppendRecord {
  return create(AppendRecordSchema, { ...record(text, producerId, sequence), previousSequence: BigInt(previous) });
}

function texts(records: { payload: Uint8Array }[]): string[] {
  return records.map((r) => new TextDecoder().decode(r.payload));
}

/** Appends as the broker's Append does once it has answered: readers may see the records then. */
async function appendAnswered(log: PartitionLog, ...args: Parameters<PartitionLog['append']>): Promise<AppendOutcome> {
  const outcome = await log.append(...args);
  log.acknowledge(outcome);
  return outcome;
}

async function failureOf(promise: Promise<unknown>): Promise<PartqError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PartqError) return error;
    throw error;
  }
  throw new Error('expected a PartqError');
}

describe('PartitionLog', () => {
  let root: string;
  let dir: string;
  const location = () => ({ dir, topicId: 3, partitionId: 1 });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'partq-broker-log-'));
    dir = join(root, '3-1');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('hands out contiguous offsets from the start offset and stores full records', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 40, highWatermark: 40 });
    const first = await appendAnswered(log, 1, [record('a'), record('b')], 1234);
    const [second, third] = await Promise.all([appendAnswered(log, 1, [record('c')], 1235), appendAnswered(log, 1, [record('d'), record('e')], 1236)]);
    expect(first.offsets).toEqual([40, 41]);
    expect(second!.offsets).toEqual([42]);
    expect(third!.offsets).toEqual([43, 44]);
    const read = await log.read(40, 100, 1 << 20);
    expect(texts(read)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(read.map((r) => Number(r.offset))).toEqual([40, 41, 42, 43, 44]);
    expect(read[0]!.timestampMs).toBe(1234n);
    expect(log.endOffset).toBe(45);
    expect(JSON.parse(await readFile(join(dir, 'partition.json'), 'utf8'))).toEqual({ topicId: 3, partitionId: 1, epoch: 1 });
    await log.close();
  });

  it('fences appends by epoch', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 2, startOffset: 0, highWatermark: 0 });
    const stale = await failureOf(log.append(1, [record('x')], 0));
    expect(stale.code).toBe('STALE_EPOCH');
    expect(stale.details).toEqual({ currentEpoch: 2 });
    expect(log.endOffset).toBe(0);
    await log.close();
    expect((await failureOf(log.append(2, [record('x')], 0))).code).toBe('NOT_OWNER');
  });

  it('returns the original offset for duplicates: earlier batch, same batch, and while the first is in flight', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await appendAnswered(log, 1, [record('s0', 7, 0), record('s1', 7, 1)], 0);
    const retry = await appendAnswered(log, 1, [record('s1', 7, 1), record('s2', 7, 2), record('s2', 7, 2)], 0);
    expect(retry.offsets).toEqual([1, 2, 2]);
    expect(retry.duplicates).toEqual([true, false, true]);
    expect(retry.baseOffset).toBe(2);
    expect(retry.written).toBe(1);

    // Both calls are issued in the same tick: the second finds sequence 3 being written and waits for it.
    const settled: string[] = [];
    const first = appendAnswered(log, 1, [record('s3', 7, 3)], 0).finally(() => settled.push('first'));
    const second = appendAnswered(log, 1, [record('s3', 7, 3)], 0).finally(() => settled.push('second'));
    const [a, b] = await Promise.all([first, second]);
    expect(a!.offsets).toEqual([3]);
    expect(b).toEqual({ baseOffset: 4, offsets: [3], duplicates: [true], lastOffset: 3, written: 0, layout: 0 });
    expect(settled).toEqual(['first', 'second']);

    // A duplicate of a record in an earlier, still running write of several waits for that write too.
    const order: string[] = [];
    const batch = appendAnswered(log, 1, [record('s4', 7, 4), record('s5', 7, 5), record('s6', 7, 6)], 0).finally(() => order.push('batch'));
    const retry5 = appendAnswered(log, 1, [record('s5', 7, 5)], 0).finally(() => order.push('retry'));
    expect((await retry5).offsets).toEqual([5]);
    expect((await batch).offsets).toEqual([4, 5, 6]);
    expect(order).toEqual(['batch', 'retry']);
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6']);
    await log.close();
  });

  it('refuses a record whose predecessor is not stored (SEQUENCE_GAP), writing nothing, and takes it once the predecessor landed', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    // A producer this partition never heard of: its previous sequence cannot have been stored here.
    const unknown = await failureOf(log.append(1, [record('other', 2, 0), after(3, 's5', 7, 5)], 0));
    expect(unknown.code).toBe('SEQUENCE_GAP');
    expect(unknown.details).toEqual({ producerId: 7, sequence: 5, previousSequence: 3, highestSequence: null });
    expect(log.endOffset).toBe(0);

    await appendAnswered(log, 1, [record('s0', 7, 0), record('s1', 7, 1)], 0);
    // Batch 2 (sequences 4-5, after 2-3) came before batch 1 (2-3): refused until batch 1 is stored.
    const early = await failureOf(log.append(1, [after(3, 's4', 7, 4), record('s5', 7, 5)], 0));
    expect(early.code).toBe('SEQUENCE_GAP');
    expect(early.details).toMatchObject({ previousSequence: 3, highestSequence: 1 });
    expect(log.endOffset).toBe(2);
    await appendAnswered(log, 1, [after(1, 's2', 7, 2), record('s3', 7, 3)], 0);
    expect((await appendAnswered(log, 1, [after(3, 's4', 7, 4), record('s5', 7, 5)], 0)).offsets).toEqual([4, 5]);

    // A predecessor earlier in the same append (two batches coalesced) counts, and so does one being written.
    const both = await appendAnswered(log, 1, [after(5, 's6', 7, 6), after(6, 's7', 7, 7)], 0);
    expect(both.offsets).toEqual([6, 7]);
    const [first, second] = await Promise.all([appendAnswered(log, 1, [after(7, 's8', 7, 8)], 0), appendAnswered(log, 1, [after(8, 's9', 7, 9)], 0)]);
    expect([first!.offsets, second!.offsets]).toEqual([[8], [9]]);
    // A retry of records already stored is answered as duplicates, whatever its predecessor.
    const retry = await log.append(1, [after(2, 's4', 7, 4)], 0);
    expect(retry.duplicates).toEqual([true]);
    // Another producer's records carry no chain of this one's.
    expect((await appendAnswered(log, 1, [record('p2', 2, 0)], 0)).offsets).toEqual([10]);
    expect(texts(await log.read(0, 20, 1 << 20))).toEqual(['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 'p2']);
    await log.close();
  });

  it('takes a predecessor below the remembered window as stored long ago', async () => {
    const log = await PartitionLog.create(location(), { ...settings, sequenceWindow: 2 }, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('s0', 7, 0), record('s1', 7, 1), record('s2', 7, 2), record('s3', 7, 3)], 0);
    expect((await log.append(1, [after(0, 's4', 7, 4)], 0)).offsets).toEqual([4]);
    await log.close();
  });

  it('a broker restarted soon after taking a partition over still knows the sequences committed before it', async () => {
    // What the manager answers, as runs: the previous owner stored producer 4's sequences 10-11 at 100-101, producer 5's 0 at 102.
    const committed = [
      { producerId: 4, firstSequence: 10, firstOffset: 100, count: 2 },
      { producerId: 5, firstSequence: 0, firstOffset: 102, count: 1 },
    ];
    const askedBelow: number[] = [];
    const takingOver: PartitionLogSettings = {
      ...settings,
      committedSequences: async (_topic, _partition, below) => {
        askedBelow.push(below);
        return committed;
      },
    };
    const log = await PartitionLog.create(location(), takingOver, { epoch: 2, startOffset: 0, highWatermark: 103 });
    expect(askedBelow).toEqual([103]);
    expect((await log.append(2, [record('retry', 4, 11)], 0)).offsets).toEqual([101]);
    // SIGKILLed before any trim saved a snapshot of its own; restarted, it asks nobody.
    await log.close();
    const restarted = await PartitionLog.open(location(), settings);
    const retry = await restarted.append(2, [record('retry', 4, 11), record('retry', 5, 0), record('new', 4, 13)], 0);
    expect(retry.duplicates).toEqual([true, true, false]);
    expect(retry.offsets).toEqual([101, 102, 103]);
    await restarted.close();
  });

  it('rebuilds the idempotence index from the WAL when reopened', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('x'), record('s5', 9, 5), record('s6', 9, 6)], 0);
    await log.close();
    const reopened = await PartitionLog.open(location(), settings);
    expect(reopened.epoch).toBe(1);
    const again = await reopened.append(1, [record('s6', 9, 6), record('s7', 9, 7)], 0);
    expect(again.offsets).toEqual([2, 3]);
    expect(again.duplicates).toEqual([true, false]);
    // Below the replayed window: possibly a retry of something trimmed away, so refused, and nothing written.
    const old = await failureOf(reopened.append(1, [record('y'), record('s4', 9, 4)], 0));
    expect(old.code).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(reopened.endOffset).toBe(4);
    await reopened.close();
  });

  it('with retainBytes keeps committed records readable after the commit, and lets them go once newer ones fill that much', async () => {
    // Segments of 4 KiB; 3 KiB of the newest records retained.
    const retaining = { ...settings, retainBytes: 3072 };
    const log = await PartitionLog.create(location(), retaining, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const kib = (n: number) => record(String(n).padEnd(1000, '.'));
    for (let i = 0; i < 3; i++) await log.append(1, [kib(i)], 0);
    await log.commit(3); // everything committed, and all of it within 3 KiB: nothing goes
    expect([log.startOffset, log.endOffset]).toEqual([0, 3]);
    expect(texts(await log.read(0, 10, 1 << 20)).map((t) => t.replace(/\.+$/, ''))).toEqual(['0', '1', '2']);
    for (let i = 3; i < 9; i++) await log.append(1, [kib(i)], 0); // fills the first segment and starts the next
    await log.commit(9);
    // The first segment went once the newer ones held 3 KiB; the records after it are still here.
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.endOffset).toBe(9);
    expect(texts(await log.read(log.startOffset, 10, 1 << 20)).length).toBe(9 - log.startOffset);
    expect((await failureOf(log.read(0, 1, 1 << 20))).code).toBe('OFFSET_OUT_OF_RANGE');
    await log.close();
  });

  it('a commit keeps the segment being written until it holds trimRollBytes, then lets it go', async () => {
    const rolling = { ...settings, trimRollBytes: 2048 };
    const log = await PartitionLog.create(location(), rolling, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const segmentFiles = async () => (await readdir(dir, { recursive: true })).filter((name) => name.endsWith('.log'));
    const kib = (n: number) => record(String(n).padEnd(1000, '.'));
    // Committed one record at a time (acks=all, one at a time): no new file per record.
    for (let i = 0; i < 3; i++) {
      await log.append(1, [record(`r${i}`)], 0);
      await log.commit(i + 1);
    }
    expect([log.startOffset, log.endOffset]).toEqual([0, 3]);
    expect(await segmentFiles()).toHaveLength(1);
    await log.append(1, [kib(3), kib(4)], 0);
    await log.commit(5);
    expect([log.startOffset, log.endOffset]).toEqual([5, 5]);
    expect(await segmentFiles()).toHaveLength(1);
    await log.close();
  });

  it('a restart after the WAL was trimmed to nothing still recognises retries of the trimmed records', async () => {
    const log = await PartitionLog.create(location(), trimAll, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a', 9, 0), record('b', 9, 1), record('x')], 0);
    await log.append(1, [record('c', 4, 7)], 0);
    await log.commit(4); // the manager committed everything: the WAL keeps no record
    expect([log.startOffset, log.endOffset]).toEqual([4, 4]);
    await log.close();

    const reopened = await PartitionLog.open(location(), trimAll);
    const retry = await reopened.append(1, [record('b', 9, 1), record('c', 4, 7), record('d', 9, 2)], 0);
    expect(retry).toMatchObject({ offsets: [1, 3, 4], duplicates: [true, true, false], written: 1 });
    // Below what was saved: possibly a retry of something forgotten, so refused as before.
    expect((await failureOf(reopened.append(1, [record('c0', 4, 6)], 0))).code).toBe('OUT_OF_ORDER_SEQUENCE');
    await reopened.close();

    // A later trim saves what the snapshot held and what the WAL held since.
    const again = await PartitionLog.open(location(), trimAll);
    await again.commit(5);
    await again.close();
    const third = await PartitionLog.open(location(), trimAll);
    expect((await third.append(1, [record('a', 9, 0), record('d', 9, 2)], 0)).offsets).toEqual([0, 4]);
    await third.close();
  });

  it('saves the sequences of the last window of records below the WAL’s start, not every producer ever seen', async () => {
    const small = { ...trimAll, sequenceWindow: 4 };
    const log = await PartitionLog.create(location(), small, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('old', 1, 0)], 0); // offset 0: five records before the start, beyond the window
    for (let i = 0; i < 5; i++) await log.append(1, [record(`b${i}`, 2, i)], 0); // offsets 1-5
    await log.commit(6);
    await log.close();
    expect((await readFile(join(dir, 'sequences.bin'))).byteLength).toBe(24); // one run: producer 2, sequences 1-4
    const reopened = await PartitionLog.open(location(), small);
    expect((await reopened.append(1, [record('b4', 2, 4), record('b1', 2, 1)], 0)).offsets).toEqual([5, 2]);
    expect((await failureOf(reopened.append(1, [record('b0', 2, 0)], 0))).code).toBe('OUT_OF_ORDER_SEQUENCE');
    // Producer 1 is forgotten, as a broker taking the partition over would not know it either.
    expect((await reopened.append(1, [record('old', 1, 0)], 0)).duplicates).toEqual([false]);
    await reopened.close();
  });

  it('a restart after a partial trim knows both the saved sequences and the WAL’s', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 12; i++) await log.append(1, [record(payload, 5, i)], 0);
    await log.commit(6);
    const start = log.startOffset;
    expect(start).toBeGreaterThan(0);
    await log.close();
    const reopened = await PartitionLog.open(location(), settings);
    const retry = await reopened.append(1, [record(payload, 5, 0), record(payload, 5, start), record(payload, 5, 11)], 0);
    expect(retry).toMatchObject({ offsets: [0, start, 11], duplicates: [true, true, true], written: 0 });
    await reopened.close();
  });

  it('an unreadable sequences snapshot is logged, and the log opens knowing the WAL’s sequences', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a', 9, 0), record('b', 9, 1)], 0);
    await log.commit(1);
    await log.close();
    await writeFile(join(dir, 'sequences.bin'), Buffer.from('not a multiple of 24 bytes'));
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const capturing = { ...settings, logger: createLogger({ role: 'broker-test', instanceId: 'snapshot', level: 'error', destination }) };
    const reopened = await PartitionLog.open(location(), capturing);
    expect(lines.map((line) => JSON.parse(line) as { msg: string })).toEqual([expect.objectContaining({ msg: expect.stringContaining('unreadable sequences snapshot') })]);
    // What the WAL holds is still recognised, and the log takes appends.
    expect((await reopened.append(1, [record('b', 9, 1), record('c', 9, 2)], 0)).duplicates).toEqual([true, false]);
    await reopened.close();
  });

  it('dates each producer by its records’ own time on reopening, so an idle one expires on time', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a', 1, 0)], 1_000);
    await log.append(1, [record('b', 2, 0)], 5_000);
    await log.close();
    const reopened = await PartitionLog.open(location(), settings);
    expect(reopened.producerCount).toBe(2);
    expect(reopened.expireIdleProducers(4_000)).toBe(1);
    expect((await reopened.append(1, [record('a', 1, 0), record('b', 2, 0)], 6_000)).duplicates).toEqual([false, true]);
    await reopened.close();
  });

  it('is readable under a new epoch only once the change to it cut the log back', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a'), record('b')], 0);
    log.assertReadableUnder(1);
    log.assertReadableUnder(0);
    const adopting = log.adopt({ epoch: 2, startOffset: 1, highWatermark: 1 });
    // Told of epoch 2 (appends under 1 fail at once), but 'b' of epoch 1 may still be there.
    expect(log.epoch).toBe(2);
    expect(() => log.assertReadableUnder(2)).toThrow(expect.objectContaining({ code: 'STALE_EPOCH' }));
    expect(await adopting).toBe('truncated');
    log.assertReadableUnder(2);
    expect(() => log.assertReadableUnder(1)).toThrow(expect.objectContaining({ code: 'STALE_EPOCH' }));
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['a']);
    await log.close();
  });

  it('adopting the same epoch keeps records beyond the high watermark', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 4, startOffset: 0, highWatermark: 0 });
    await log.append(4, [record('a'), record('b'), record('c')], 0);
    expect(await log.adopt({ epoch: 4, startOffset: 0, highWatermark: 1 })).toBe('kept');
    expect(log.endOffset).toBe(3);
    expect(log.committed).toBe(1);
    await log.close();
  });

  it('adopting a new epoch truncates to the start offset and forgets the truncated sequences', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a', 5, 0), record('b', 5, 1), record('c', 5, 2)], 0);
    expect(await log.adopt({ epoch: 3, startOffset: 1, highWatermark: 1 })).toBe('truncated');
    expect(log.epoch).toBe(3);
    expect(log.endOffset).toBe(1);
    expect(JSON.parse(await readFile(join(dir, 'partition.json'), 'utf8')).epoch).toBe(3);
    expect((await failureOf(log.append(1, [record('old')], 0))).code).toBe('STALE_EPOCH');
    // Sequence 1 was truncated away: it is new again and lands at the new end.
    const next = await appendAnswered(log, 3, [record('b2', 5, 1)], 0);
    expect(next).toMatchObject({ offsets: [1], duplicates: [false] });
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['a', 'b2']);
    expect(await log.adopt({ epoch: 2, startOffset: 0, highWatermark: 0 })).toBe('ignored-stale-epoch');
    await log.close();
  });

  it('adopting a new epoch resets the log when it does not reach the start offset', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a')], 0);
    expect(await log.adopt({ epoch: 2, startOffset: 10, highWatermark: 10 })).toBe('reset');
    expect([log.startOffset, log.endOffset]).toEqual([10, 10]);
    expect((await log.append(2, [record('b')], 0)).offsets).toEqual([10]);
    await log.close();
  });

  it('a commit releases acks=all waiters at or below it and trims whole segments', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const payload = 'x'.repeat(1000);
    for (let i = 0; i < 12; i++) await log.append(1, [record(payload)], 0);
    const releasedAt: number[] = [];
    const early = log.waitCommitted(4, 60_000).then(() => releasedAt.push(4));
    const late = log.waitCommitted(11, 60_000).then(() => releasedAt.push(11));
    expect(log.commitWaiters).toBe(2);
    await log.commit(5);
    await early;
    expect(releasedAt).toEqual([4]);
    expect(log.commitWaiters).toBe(1);
    expect(log.startOffset).toBeGreaterThan(0);
    expect(log.startOffset).toBeLessThanOrEqual(5);
    const below = await failureOf(log.read(0, 10, 1 << 20));
    expect(below.code).toBe('OFFSET_OUT_OF_RANGE');
    expect(below.details).toMatchObject({ walStartOffset: log.startOffset });
    await log.commit(12);
    await late;
    expect(releasedAt).toEqual([4, 11]);
    await log.close();
  });

  it('an acks=all waiter times out with UNAVAILABLE', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a')], 0);
    expect((await failureOf(log.waitCommitted(0, 5))).code).toBe('UNAVAILABLE');
    await log.close();
  });

  it('readers see acks=all records only once committed; acks=broker ones once acknowledged', async () => {
    let changes = 0;
    const log = await PartitionLog.create(location(), { ...settings, onChange: () => changes++ }, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await appendAnswered(log, 1, [record('broker-0')], 0);
    await appendAnswered(log, 1, [record('all-1'), record('all-2')], 0, true);
    await appendAnswered(log, 1, [record('broker-3')], 0);
    expect([log.endOffset, log.readableEnd]).toEqual([4, 1]);
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['broker-0']);
    expect(await log.read(1, 10, 1 << 20)).toEqual([]);
    // The manager's sync reads them all: it is what commits them.
    expect(texts((await log.readForSync(0, 10, 1 << 20)).records.map(decodeRecord))).toEqual(['broker-0', 'all-1', 'all-2', 'broker-3']);

    const before = changes;
    await log.commit(2);
    expect(log.readableEnd).toBe(2);
    expect(changes).toBe(before + 1);
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['broker-0', 'all-1']);
    await log.commit(3);
    // Nothing held past the commit: readers reach the durable end.
    expect(log.readableEnd).toBe(4);
    expect(texts(await log.read(3, 10, 1 << 20))).toEqual(['broker-3']);
    await log.close();
  });

  it('a retried acks=all record already stored keeps whatever visibility it had', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await appendAnswered(log, 1, [record('s0', 7, 0)], 0);
    const retry = await appendAnswered(log, 1, [record('s0', 7, 0)], 0, true);
    expect(retry.duplicates).toEqual([true]);
    expect(log.readableEnd).toBe(1);
    await log.close();
  });

  it('readers see acks=broker records once their append is acknowledged, or committed when it never is', async () => {
    let changes = 0;
    const log = await PartitionLog.create(location(), { ...settings, onChange: () => changes++ }, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const answered = await log.append(1, [record('a'), record('b')], 0);
    const unanswered = await log.append(1, [record('c')], 0); // refused after a stall, say: never acknowledged
    const later = await log.append(1, [record('d')], 0);
    expect([log.endOffset, log.readableEnd]).toEqual([4, 0]);
    expect(await log.read(0, 10, 1 << 20)).toEqual([]);

    const before = changes;
    log.acknowledge(answered);
    expect(log.readableEnd).toBe(2);
    expect(changes).toBe(before + 1);
    // Acknowledged, but behind one that is not: readers read in offset order.
    log.acknowledge(later);
    expect(log.readableEnd).toBe(2);
    expect(unanswered.written).toBe(1);
    // The manager commits what its sync read, the unanswered record too: it is no longer the broker's to lose.
    await log.commit(3);
    expect(log.readableEnd).toBe(4);
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['a', 'b', 'c', 'd']);
    await log.close();
  });

  it('a retry of records whose append went unanswered acknowledges them', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await appendAnswered(log, 1, [record('s0', 7, 0)], 0);
    await log.append(1, [record('s1', 7, 1), record('s2', 7, 2), record('s3', 7, 3)], 0);
    expect(log.readableEnd).toBe(1);
    // The producer retries only part of it (say the rest went in another batch): only that part shows.
    const retry = await appendAnswered(log, 1, [record('s1', 7, 1), record('s2', 7, 2)], 0);
    expect(retry.duplicates).toEqual([true, true]);
    expect(log.readableEnd).toBe(3);
    await appendAnswered(log, 1, [record('s3', 7, 3)], 0);
    expect(log.readableEnd).toBe(4);
    await log.close();
  });

  it('an acknowledgement that a truncation overtook changes nothing', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    const old = await log.append(1, [record('a'), record('b')], 0);
    expect(await log.adopt({ epoch: 2, startOffset: 1, highWatermark: 1 })).toBe('truncated');
    const fresh = await log.append(2, [record('c')], 0);
    expect(fresh.offsets).toEqual([1]);
    // The old append's offsets 0-1 overlap the new epoch's record at 1, which nobody acknowledged yet.
    log.acknowledge(old);
    expect(log.readableEnd).toBe(1);
    log.acknowledge(fresh);
    expect(log.readableEnd).toBe(2);
    await log.close();
  });

  it('a truncation forgets the held records it cut away', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a'), record('b')], 0, true);
    expect(await log.adopt({ epoch: 2, startOffset: 1, highWatermark: 1 })).toBe('truncated');
    expect([log.endOffset, log.readableEnd]).toEqual([1, 1]);
    await appendAnswered(log, 2, [record('c')], 0);
    expect(texts(await log.read(0, 10, 1 << 20))).toEqual(['a', 'c']);
    await log.close();
  });

  it('a restarted broker still holds back the acks=all records it had not seen committed', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('broker-0')], 0);
    await log.append(1, [record('all-1'), record('all-2')], 0, true);
    await log.append(1, [record('broker-3')], 0);
    await log.append(1, [record('all-4')], 0, true);
    await log.close();

    const reopened = await PartitionLog.open(location(), settings);
    expect([reopened.endOffset, reopened.readableEnd]).toEqual([5, 1]);
    expect(texts(await reopened.read(0, 10, 1 << 20))).toEqual(['broker-0']);
    // The manager's assignment carries the high watermark: what it committed is released.
    expect(await reopened.adopt({ epoch: 1, startOffset: 3, highWatermark: 3 })).toBe('kept');
    expect(reopened.readableEnd).toBe(4);
    expect(texts(await reopened.read(1, 10, 1 << 20))).toEqual(['all-1', 'all-2', 'broker-3']);
    await reopened.commit(5);
    expect(reopened.readableEnd).toBe(5);
    await reopened.close();
  });

  it('reads for the manager with the epoch, from the WAL start when asked for less', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 6, startOffset: 2, highWatermark: 2 });
    await log.append(6, [record('a'), record('b'), record('c')], 0);
    const sync = await log.readForSync(3, 10, 1 << 20);
    expect(sync.epoch).toBe(6);
    // Stored bytes, passed on undecoded.
    expect(texts(sync.records.map(decodeRecord))).toEqual(['b', 'c']);
    expect(texts((await log.readForSync(0, 10, 1 << 20)).records.map(decodeRecord))).toEqual(['a', 'b', 'c']);
    expect(log.pendingSince(3)).toBe(2);
    expect(await log.read(5, 10, 1 << 20)).toEqual([]);
    expect((await failureOf(log.read(6, 10, 1 << 20))).code).toBe('OFFSET_OUT_OF_RANGE');
    await log.close();
  });

  it('a directory recovered without partition.json is not served until assigned', async () => {
    const log = await PartitionLog.create(location(), settings, { epoch: 1, startOffset: 0, highWatermark: 0 });
    await log.append(1, [record('a'), record('b')], 0);
    await log.close();
    await rm(join(dir, 'partition.json'));
    const recovered = await PartitionLog.open(location(), settings);
    expect(recovered.epoch).toBe(0);
    expect((await failureOf(recovered.append(0, [record('x')], 0))).code).toBe('NOT_OWNER');
    expect(await recovered.adopt({ epoch: 1, startOffset: 1, highWatermark: 1 })).toBe('truncated');
    expect(recovered.endOffset).toBe(1);
    await recovered.close();
  });
});
