import { openWal, payload, segmentFiles, text, useTempDirs } from '../test/helpers.js';
import { Wal, WalError } from './index.js';

const temp = useTempDirs();

/** 10 records of 30-byte payloads per segment: frames are 46 bytes, segments 460 bytes. */
const options = (dir: string) => ({ dir, segmentBytes: 460, fsync: false, cacheBytes: 0 });

async function filled(dir: string, count: number): Promise<Wal> {
  const wal = await openWal(temp, options(dir));
  for (let i = 0; i < count; i += 5) await wal.append(Array.from({ length: 5 }, (_, j) => payload(i + j, 30)));
  return wal;
}

async function offsets(wal: Wal, from: number): Promise<number[]> {
  return (await wal.read(from, 1000)).map((r) => r.offset);
}

describe('Wal.trimBefore', () => {
  it('deletes only whole segments below the offset; startOffset moves to a segment boundary', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 50);
    expect((await segmentFiles(dir)).length).toBe(5);
    await wal.trimBefore(25);
    expect(wal.startOffset).toBe(20);
    expect(wal.endOffset).toBe(50);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000020.log', '00000000000000000030.log', '00000000000000000040.log']);
    expect((await wal.read(20, 1))[0]!.offset).toBe(20);
    await expect(wal.read(19, 1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await wal.trimBefore(10); // below the start: nothing to do
    expect(wal.startOffset).toBe(20);
  });

  it('calls beforeDelete with the new start before deleting, only when something goes; a throw deletes nothing', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 50);
    const seen: { start: number; files: number }[] = [];
    const beforeDelete = async (start: number) => void seen.push({ start, files: (await segmentFiles(dir)).length });
    await wal.trimBefore(5, { beforeDelete }); // inside the first segment: nothing to delete
    expect(seen).toEqual([]);
    await wal.trimBefore(25, { beforeDelete });
    expect(seen).toEqual([{ start: 20, files: 5 }]);
    const failure = new Error('cannot save');
    await expect(wal.trimBefore(45, { beforeDelete: () => Promise.reject(failure) })).rejects.toMatchObject({ code: 'TRIM_ABORTED', cause: failure });
    expect(wal.startOffset).toBe(20);
    expect(await offsets(wal, 20)).toHaveLength(30);
    expect(await wal.append([payload(50, 30)])).toEqual({ firstOffset: 50, lastOffset: 50 }); // still writable
    await wal.trimBefore(51, { beforeDelete }); // everything: a new empty segment at the end, then the rest goes
    expect(seen).toEqual([{ start: 20, files: 5 }, { start: 51, files: 5 }]);
    expect([wal.startOffset, wal.endOffset]).toEqual([51, 51]);
  });

  it('keeps startOffset and endOffset across a restart', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 50);
    await wal.trimBefore(33);
    await wal.close();
    const reopened = await openWal(temp, options(dir));
    expect([reopened.startOffset, reopened.endOffset]).toEqual([30, 50]);
    expect(await offsets(reopened, 30)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
  });

  it('trimmed to the end leaves an empty log that keeps its offsets across a restart', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 45);
    await wal.trimBefore(45);
    expect([wal.startOffset, wal.endOffset]).toEqual([45, 45]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000045.log']);
    expect(await wal.read(45, 10)).toEqual([]);
    await wal.close();
    const reopened = await openWal(temp, { ...options(dir), baseOffset: 0 });
    expect([reopened.startOffset, reopened.endOffset]).toEqual([45, 45]);
    expect(await reopened.append([payload(45, 30)])).toEqual({ firstOffset: 45, lastOffset: 45 });
  });

  it('minRollBytes: trimmed to the end, the segment being written stays until it holds that many bytes', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 45); // 5 records (230 bytes) in the segment from 40
    await wal.trimBefore(45, { minRollBytes: 300 });
    // The older segments go; the one being written keeps its records, and no file was started.
    expect([wal.startOffset, wal.endOffset]).toEqual([40, 45]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000040.log']);
    await wal.append([payload(45, 30), payload(46, 30)]); // 322 bytes
    await wal.trimBefore(47, { minRollBytes: 300 });
    expect([wal.startOffset, wal.endOffset]).toEqual([47, 47]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000047.log']);
  });

  it('activeSegmentStart: trimming up to it removes every older segment and starts no new file', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 45);
    expect(wal.activeSegmentStart).toBe(40);
    await wal.trimBefore(wal.activeSegmentStart);
    expect([wal.startOffset, wal.activeSegmentStart, wal.endOffset]).toEqual([40, 40, 45]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000040.log']);
    expect(await offsets(wal, 40)).toEqual([40, 41, 42, 43, 44]);
  });

  it('keepBytes: keeps whole segments holding at least that many of the newest bytes, and starts no new file at the end', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 45); // segments of 460 bytes from 0, 10, 20, 30; 5 records (230 bytes) from 40
    await wal.trimBefore(45, { keepBytes: 600 }); // the segment from 30 and the active one hold 690
    expect([wal.startOffset, wal.endOffset]).toEqual([30, 45]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000030.log', '00000000000000000040.log']);
    expect(await offsets(wal, 30)).toEqual(Array.from({ length: 15 }, (_, i) => 30 + i));
    await wal.trimBefore(45, { keepBytes: 100 }); // the active segment alone holds 230: the rest goes
    expect([wal.startOffset, wal.endOffset]).toEqual([40, 45]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000040.log']);
    await wal.trimBefore(45, { keepBytes: 10_000 }); // never more than there is: nothing to do
    expect(await offsets(wal, 40)).toEqual([40, 41, 42, 43, 44]);
    expect(await wal.append([payload(45, 30)])).toEqual({ firstOffset: 45, lastOffset: 45 });
  });

  it('keepBytes only holds back segments the offset lets go', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 50);
    await wal.trimBefore(25, { keepBytes: 0 });
    expect(wal.startOffset).toBe(20);
    await wal.trimBefore(35, { keepBytes: 5 * 460 }); // more than the log holds: the segment from 20 stays
    expect(wal.startOffset).toBe(20);
    await wal.trimBefore(35, { keepBytes: 2 * 460 }); // 30 and 40 hold 920: 20 goes
    expect(wal.startOffset).toBe(30);
  });

  it('refuses to trim beyond the end', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 10);
    await expect(wal.trimBefore(11)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(wal.startOffset).toBe(0);
    expect(await wal.append([payload(10, 30)])).toEqual({ firstOffset: 10, lastOffset: 10 });
  });
});

describe('Wal.truncateFrom', () => {
  it('drops records from the middle of a segment and later segments; appends continue there', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 50);
    await wal.truncateFrom(23);
    expect(wal.endOffset).toBe(23);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000000.log', '00000000000000000010.log', '00000000000000000020.log']);
    expect(await offsets(wal, 20)).toEqual([20, 21, 22]);
    await expect(wal.read(24, 1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await wal.append([payload(1023, 30), payload(1024, 30)])).toEqual({ firstOffset: 23, lastOffset: 24 });
    const records = await wal.read(22, 10);
    expect(records.map((r) => text(r.data).split('-')[1])).toEqual(['22', '1023', '1024']);
    await wal.close();
    const reopened = await openWal(temp, options(dir));
    expect(reopened.recovery.reason).toBeUndefined();
    expect(reopened.endOffset).toBe(25);
    expect((await reopened.read(23, 1)).map((r) => text(r.data).split('-')[1])).toEqual(['1023']);
  });

  it('at a segment boundary deletes that segment and appends into the previous one', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 30);
    await wal.truncateFrom(20);
    expect(await segmentFiles(dir)).toEqual(['00000000000000000000.log', '00000000000000000010.log']);
    expect(await wal.append([payload(20, 30)])).toEqual({ firstOffset: 20, lastOffset: 20 });
    // The previous segment was full, so the append rolled a fresh one named 20 again.
    expect(await segmentFiles(dir)).toEqual(['00000000000000000000.log', '00000000000000000010.log', '00000000000000000020.log']);
    expect(await offsets(wal, 18)).toEqual([18, 19, 20]);
  });

  it('to the start empties the log but keeps its base offset', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { ...options(dir), baseOffset: 7 });
    await wal.append([payload(7, 30), payload(8, 30)]);
    await wal.truncateFrom(7);
    expect([wal.startOffset, wal.endOffset]).toEqual([7, 7]);
    expect(await wal.read(7, 10)).toEqual([]);
    expect(await wal.append([payload(107, 30)])).toEqual({ firstOffset: 7, lastOffset: 7 });
  });

  it('at the end is a no-op; outside the log it is OFFSET_OUT_OF_RANGE', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 30);
    await wal.truncateFrom(30);
    expect(wal.endOffset).toBe(30);
    await expect(wal.truncateFrom(31)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await wal.trimBefore(15);
    await expect(wal.truncateFrom(5)).rejects.toBeInstanceOf(WalError);
    await expect(wal.truncateFrom(5)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
  });

  it('also drops the truncated records from the cache', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    await wal.append([payload(0), payload(1), payload(2)]);
    await wal.truncateFrom(1);
    await wal.append([payload(101)]);
    expect((await wal.read(0, 10)).map((r) => text(r.data))).toEqual(['record-0-', 'record-101-']);
  });

  it('runs in call order with the appends around it', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    const before = wal.append([payload(0), payload(1), payload(2)]);
    const truncated = wal.truncateFrom(1);
    const after = wal.append([payload(100)]);
    expect(await before).toEqual({ firstOffset: 0, lastOffset: 2 });
    await truncated;
    expect(await after).toEqual({ firstOffset: 1, lastOffset: 1 });
  });
});

describe('Wal.reset', () => {
  it('deletes everything and restarts empty at the given offset, also after a restart', async () => {
    const dir = await temp.make();
    const wal = await filled(dir, 40);
    await wal.reset(5000);
    expect([wal.startOffset, wal.endOffset]).toEqual([5000, 5000]);
    expect(await segmentFiles(dir)).toEqual(['00000000000000005000.log']);
    await expect(wal.read(0, 1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    expect(await wal.append([payload(5000, 30)])).toEqual({ firstOffset: 5000, lastOffset: 5000 });
    await wal.close();
    const reopened = await openWal(temp, options(dir));
    expect([reopened.startOffset, reopened.endOffset]).toEqual([5000, 5001]);
    await reopened.reset(0);
    expect([reopened.startOffset, reopened.endOffset]).toEqual([0, 0]);
    expect(await reopened.append([payload(0, 30)])).toEqual({ firstOffset: 0, lastOffset: 0 });
  });
});
