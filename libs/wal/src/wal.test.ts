import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openWal, payload, segmentFiles, text, useTempDirs } from '../test/helpers.js';
import { MAX_RECORD_BYTES, Wal, WalError, type RecordSource, type WalRecord } from './index.js';

const temp = useTempDirs();

async function readEverything(wal: Wal, from = wal.startOffset, batch = 37): Promise<WalRecord[]> {
  const records: WalRecord[] = [];
  for (let cursor = from; ; ) {
    const got = await wal.read(cursor, batch);
    if (got.length === 0) return records;
    records.push(...got);
    cursor = got[got.length - 1]!.offset + 1;
  }
}

async function expectWalError(promise: Promise<unknown>, code: WalError['code']): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(WalError);
  await expect(promise).rejects.toMatchObject({ code });
}

describe('Wal append and read', () => {
  it('keeps in its cache only the memory a group commit wrote, not a shared 8 KiB pool slab', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, cacheBytes: 1024 * 1024, fsync: false });
    for (let i = 0; i < 50; i++) {
      await wal.append([payload(i, 100)]);
      Buffer.allocUnsafe(100); // what a process does meanwhile: small Buffers from Node's pool
    }
    const cached = await wal.read(0, 50);
    expect(cached).toHaveLength(50);
    // A cached record's view holds its group's own buffer: one 100-byte record and its frame.
    for (const record of cached) expect(record.data.buffer.byteLength).toBeLessThan(256);
  });

  it('round-trips many records across several segment rolls, from disk and from the cache', async () => {
    const dir = await temp.make();
    // A tiny cache forces most reads to the segment files.
    const wal = await openWal(temp, { dir, segmentBytes: 2048, cacheBytes: 512, fsync: false });
    let next = 0;
    for (let round = 0; round < 40; round++) {
      const records = Array.from({ length: 1 + (round % 7) }, () => payload(next++, 20 + (next % 90)));
      const result = await wal.append(records);
      expect(result).toEqual({ firstOffset: next - records.length, lastOffset: next - 1 });
    }
    expect(wal.endOffset).toBe(next);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(5);
    const records = await readEverything(wal);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: next }, (_, i) => i));
    records.forEach((r) => expect(text(r.data).startsWith(`record-${r.offset}-`)).toBe(true));
    // Reads starting anywhere, including mid-segment, return the same records.
    const middle = await wal.read(101, 5);
    expect(middle.map((r) => r.offset)).toEqual([101, 102, 103, 104, 105]);
    expect(text(middle[0]!.data).startsWith('record-101-')).toBe(true);
  });

  it('names segments by their zero-padded base offset and rolls before a record would overflow', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 100, fsync: false });
    // Frames of 16 + 30 = 46 bytes: two fit in 100 bytes, the third starts a new segment.
    for (let i = 0; i < 5; i++) await wal.append([payload(i, 30)]);
    expect(await segmentFiles(dir)).toEqual([
      '00000000000000000000.log',
      '00000000000000000002.log',
      '00000000000000000004.log',
    ]);
  });

  it('puts a record larger than segmentBytes alone in its own segment', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 100, fsync: false });
    await wal.append([payload(0, 10), payload(1, 500), payload(2, 10)]);
    expect((await segmentFiles(dir)).length).toBe(3);
    expect((await wal.read(1, 1))[0]!.data.byteLength).toBe(500);
  });

  it('restores offsets and records when reopened', async () => {
    const dir = await temp.make();
    const first = await Wal.open({ dir, segmentBytes: 1024 });
    for (let i = 0; i < 100; i++) await first.append([payload(i, 50)]);
    await first.close();
    const wal = await openWal(temp, { dir, segmentBytes: 1024 });
    expect(wal.recovery).toEqual({ segments: (await segmentFiles(dir)).length, records: 100, truncatedBytes: 0 });
    expect(wal.startOffset).toBe(0);
    expect(wal.endOffset).toBe(100);
    expect((await readEverything(wal)).map((r) => text(r.data).split('-')[1])).toEqual(
      Array.from({ length: 100 }, (_, i) => String(i)),
    );
    expect(await wal.append([payload(100)])).toEqual({ firstOffset: 100, lastOffset: 100 });
  });

  it('starts an empty log at baseOffset, and ignores baseOffset once a log exists', async () => {
    const dir = await temp.make();
    const wal = await Wal.open({ dir, baseOffset: 1000 });
    expect(wal.recovery).toEqual({ segments: 1, records: 0, truncatedBytes: 0 });
    expect([wal.startOffset, wal.endOffset]).toEqual([1000, 1000]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000001000.log']);
    expect(await wal.append([payload(1), payload(2)])).toEqual({ firstOffset: 1000, lastOffset: 1001 });
    await wal.close();
    const reopened = await openWal(temp, { dir, baseOffset: 5 });
    expect([reopened.startOffset, reopened.endOffset]).toEqual([1000, 1002]);
    expect((await reopened.read(1000, 10)).map((r) => r.offset)).toEqual([1000, 1001]);
  });

  it('limits a read by maxRecords and maxBytes, but always returns at least one record', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false, cacheBytes: 0 });
    await wal.append(Array.from({ length: 10 }, (_, i) => payload(i, 100)));
    expect((await wal.read(0, 3)).map((r) => r.offset)).toEqual([0, 1, 2]);
    expect((await wal.read(2, 100, 350)).map((r) => r.offset)).toEqual([2, 3, 4]);
    expect((await wal.read(2, 100, 300)).map((r) => r.offset)).toEqual([2, 3, 4]);
    expect((await wal.read(2, 100, 299)).map((r) => r.offset)).toEqual([2, 3]);
    expect((await wal.read(5, 100, 1)).map((r) => r.offset)).toEqual([5]);
    expect(await wal.read(5, 0)).toEqual([]);
  });

  it('applies maxBytes the same way to records served from the cache', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    await wal.append(Array.from({ length: 10 }, (_, i) => payload(i, 100)));
    expect((await wal.read(2, 100, 299)).map((r) => r.offset)).toEqual([2, 3]);
    expect((await wal.read(9, 100, 1)).map((r) => r.offset)).toEqual([9]);
  });

  it('serves recent records from the cache without reading the files', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false, cacheBytes: 1024 * 1024 });
    await wal.append(Array.from({ length: 50 }, (_, i) => payload(i, 64)));
    const probe = await open(join(dir, 'probe'), 'w');
    const read = jest.spyOn(Object.getPrototypeOf(probe) as { read: () => unknown }, 'read');
    await probe.close();
    try {
      const records = await wal.read(10, 40);
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
      expect(read).not.toHaveBeenCalled();
    } finally {
      read.mockRestore();
    }
  });

  it('copies payloads, so changing the caller buffer after the append changes nothing', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    const buffer = Buffer.from('original');
    await wal.append([buffer]);
    buffer.write('modified');
    expect(text((await wal.read(0, 1))[0]!.data)).toBe('original');
  });

  it('returns [] at the end and OFFSET_OUT_OF_RANGE outside [startOffset, endOffset]', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, baseOffset: 10, fsync: false });
    expect(await wal.read(10, 5)).toEqual([]);
    await wal.append([payload(10), payload(11)]);
    expect(await wal.read(12, 5)).toEqual([]);
    await expectWalError(wal.read(13, 5), 'OFFSET_OUT_OF_RANGE');
    await expectWalError(wal.read(9, 5), 'OFFSET_OUT_OF_RANGE');
  });

  it('writes records from a RecordSource straight into its own buffer, in order with plain appends', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 256, cacheBytes: 1024 * 1024, fsync: false });
    const written: number[] = [];
    // Each record is 'source-<offset>' padded to a length that varies, made only when the WAL asks.
    const source = (first: number, count: number): RecordSource => ({
      count,
      byteLength: (i) => 20 + ((first + i) % 13),
      writeTo: (i, target, at) => {
        written.push(first + i);
        target.fill(0x2e, at, at + 20 + ((first + i) % 13));
        target.set(Buffer.from(`source-${first + i}`), at);
      },
    });
    const appends = [wal.append(source(0, 3)), wal.append([payload(3, 30)]), wal.append(source(4, 20))];
    expect(written).toEqual([]); // nothing is written before the group commit
    expect(await Promise.all(appends)).toEqual([
      { firstOffset: 0, lastOffset: 2 },
      { firstOffset: 3, lastOffset: 3 },
      { firstOffset: 4, lastOffset: 23 },
    ]);
    expect(written).toEqual([0, 1, 2, ...Array.from({ length: 20 }, (_, i) => 4 + i)]);
    expect((await segmentFiles(dir)).length).toBeGreaterThan(2);
    const expectRecords = (records: WalRecord[]): void => {
      expect(records.map((r) => r.offset)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      for (const r of records) {
        if (r.offset === 3) continue;
        expect(r.data.byteLength).toBe(20 + (r.offset % 13));
        expect(text(r.data)).toBe(`source-${r.offset}`.padEnd(20 + (r.offset % 13), '.'));
      }
    };
    expectRecords(await readEverything(wal)); // from the cache
    await wal.close();
    const reopened = await openWal(temp, { dir, segmentBytes: 256, cacheBytes: 0, fsync: false });
    expectRecords(await readEverything(reopened)); // from the segment files
  });

  it('refuses a RecordSource with no records or a bad length, and writes nothing', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    const source = (count: number, length: number): RecordSource => ({ count, byteLength: () => length, writeTo: () => undefined });
    await expectWalError(wal.append(source(0, 1)), 'INVALID_ARGUMENT');
    await expectWalError(wal.append(source(1.5, 1)), 'INVALID_ARGUMENT');
    await expectWalError(wal.append(source(2, -1)), 'INVALID_ARGUMENT');
    await expectWalError(wal.append(source(1, Number.NaN)), 'INVALID_ARGUMENT');
    await expectWalError(wal.append({ count: 1 } as unknown as RecordSource), 'INVALID_ARGUMENT');
    await expectWalError(wal.append(source(1, MAX_RECORD_BYTES + 1)), 'RECORD_TOO_LARGE');
    expect(wal.endOffset).toBe(0);
    expect(await wal.append([payload(0)])).toEqual({ firstOffset: 0, lastOffset: 0 });
  });

  it('rejects bad arguments with INVALID_ARGUMENT and oversized records with RECORD_TOO_LARGE', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    await expectWalError(wal.append([]), 'INVALID_ARGUMENT');
    await expectWalError(wal.append(['text' as unknown as Uint8Array]), 'INVALID_ARGUMENT');
    await expectWalError(wal.append([new Uint16Array(2) as unknown as Uint8Array]), 'INVALID_ARGUMENT');
    await expectWalError(wal.read(-1, 5), 'INVALID_ARGUMENT');
    await expectWalError(wal.read(0, 1.5), 'INVALID_ARGUMENT');
    await expectWalError(wal.truncateFrom(Number.NaN), 'INVALID_ARGUMENT');
    await expectWalError(Wal.open({ dir, segmentBytes: 0 }), 'INVALID_ARGUMENT');
    await expectWalError(wal.append([payload(0), new Uint8Array(MAX_RECORD_BYTES + 1)]), 'RECORD_TOO_LARGE');
    expect(wal.endOffset).toBe(0);
    // The limit itself is allowed.
    expect(await wal.append([new Uint8Array(MAX_RECORD_BYTES)])).toEqual({ firstOffset: 0, lastOffset: 0 });
  });

  it('close waits for pending appends; afterwards every call throws CLOSED', async () => {
    const dir = await temp.make();
    const wal = await Wal.open({ dir });
    const pending = Array.from({ length: 20 }, (_, i) => wal.append([payload(i)]));
    const closed = wal.close();
    await expectWalError(wal.append([payload(99)]), 'CLOSED');
    await Promise.all(pending);
    await closed;
    expect(wal.endOffset).toBe(20);
    await expectWalError(wal.append([payload(99)]), 'CLOSED');
    await expectWalError(wal.read(0, 1), 'CLOSED');
    await expectWalError(wal.trimBefore(1), 'CLOSED');
    await expectWalError(wal.truncateFrom(1), 'CLOSED');
    await expectWalError(wal.reset(0), 'CLOSED');
    await expect(wal.close()).resolves.toBeUndefined();
    const reopened = await openWal(temp, { dir });
    expect(reopened.endOffset).toBe(20);
  });

  it('replays every record with readAll', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 4096, cacheBytes: 0, fsync: false });
    for (let i = 0; i < 30; i++) await wal.append(Array.from({ length: 100 }, (_, j) => payload(i * 100 + j)));
    await wal.trimBefore(1000);
    const offsets: number[] = [];
    for await (const record of wal.readAll()) {
      expect(text(record.data)).toBe(`record-${record.offset}-`);
      offsets.push(record.offset);
    }
    expect(offsets[0]).toBe(wal.startOffset);
    expect(offsets.length).toBe(3000 - wal.startOffset);
    expect(offsets.at(-1)).toBe(2999);
  });
});
