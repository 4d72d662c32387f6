import { open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openWal, payload, segmentFiles, text, useTempDirs } from '../test/helpers.js';
import { Wal } from './index.js';
import { segmentFileName } from './segment-file-name.js';

const temp = useTempDirs();

/** 30-byte payloads make 46-byte frames; 460-byte segments hold 10 records each. */
const FRAME = 46;
const HEADER = 16;
const options = (dir: string) => ({ dir, segmentBytes: 460 });

/** A closed log of 25 records in segments 0, 10 and 20 (the last holds 5). */
async function writeLog(): Promise<string> {
  const dir = await temp.make();
  const wal = await Wal.open(options(dir));
  for (let i = 0; i < 25; i += 5) await wal.append(Array.from({ length: 5 }, (_, j) => payload(i + j, 30)));
  await wal.close();
  return dir;
}

const segment = (dir: string, baseOffset: number) => join(dir, segmentFileName(baseOffset));

async function flipByte(path: string, position: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const byte = Buffer.alloc(1);
    await file.read(byte, 0, 1, position);
    byte[0]! ^= 0x40;
    await file.write(byte, 0, 1, position);
  } finally {
    await file.close();
  }
}

async function reopen(dir: string) {
  const warn = jest.fn();
  const wal = await openWal(temp, { ...options(dir), logger: { warn } });
  return { wal, warn };
}

async function expectRecordsUpTo(wal: Wal, end: number): Promise<void> {
  expect(wal.endOffset).toBe(end);
  const records = [];
  for await (const record of wal.readAll()) records.push(record);
  expect(records.map((r) => text(r.data).split('-')[1])).toEqual(Array.from({ length: end }, (_, i) => String(i)));
}

describe('Wal recovery', () => {
  it('reports nothing for a cleanly closed log', async () => {
    const dir = await writeLog();
    const { wal, warn } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 3, records: 25, truncatedBytes: 0 });
    expect(warn).not.toHaveBeenCalled();
    await expectRecordsUpTo(wal, 25);
  });

  it('cuts a torn last frame (payload cut short) back to the last whole record', async () => {
    const dir = await writeLog();
    await truncate(segment(dir, 20), 5 * FRAME - 5);
    const { wal, warn } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 3, records: 24, truncatedBytes: FRAME - 5, reason: 'torn-tail' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatchObject({ reason: 'torn-tail', truncatedBytes: FRAME - 5 });
    expect((await stat(segment(dir, 20))).size).toBe(4 * FRAME);
    await expectRecordsUpTo(wal, 24);
    expect(await wal.append([payload(24, 30)])).toEqual({ firstOffset: 24, lastOffset: 24 });
  });

  it('cuts a torn header', async () => {
    const dir = await writeLog();
    await truncate(segment(dir, 20), 4 * FRAME + 7);
    const { wal } = await reopen(dir);
    expect(wal.recovery).toMatchObject({ records: 24, truncatedBytes: 7, reason: 'torn-tail' });
    await expectRecordsUpTo(wal, 24);
  });

  it.each([
    ['a zero-filled tail of the last segment', 20, 100, 5 * FRAME],
    ['zeros shorter than a frame header', 20, 7, 5 * FRAME],
    ['zeros ending an earlier segment (a roll whose cut was lost), keeping the later ones', 10, 4096, 10 * FRAME],
  ])("cuts the writer's preallocated space without calling it damage: %s", async (_case, base, zeros, keptBytes) => {
    const dir = await writeLog();
    await writeFile(segment(dir, base), Buffer.alloc(zeros), { flag: 'a' });
    const { wal, warn } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 3, records: 25, truncatedBytes: 0 });
    expect(warn).not.toHaveBeenCalled();
    expect((await stat(segment(dir, base))).size).toBe(keptBytes);
    await expectRecordsUpTo(wal, 25);
  });

  it('drops the last record when a byte of its payload flipped', async () => {
    const dir = await writeLog();
    await flipByte(segment(dir, 20), 4 * FRAME + HEADER + 3);
    const { wal } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 3, records: 24, truncatedBytes: FRAME, reason: 'crc-mismatch' });
    await expectRecordsUpTo(wal, 24);
  });

  it('ends the log at a corrupt record in the middle and deletes the later segments', async () => {
    const dir = await writeLog();
    await flipByte(segment(dir, 10), 3 * FRAME + HEADER + 10); // record 13
    const { wal, warn } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 2, records: 13, truncatedBytes: 7 * FRAME + 5 * FRAME, reason: 'crc-mismatch' });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(await segmentFiles(dir)).toEqual([segmentFileName(0), segmentFileName(10)]);
    await expectRecordsUpTo(wal, 13);
    expect(await wal.append([payload(13, 30)])).toEqual({ firstOffset: 13, lastOffset: 13 });
  });

  it('ends the log at an impossible length', async () => {
    const dir = await writeLog();
    const file = await open(segment(dir, 20), 'r+');
    await file.write(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, 4, 2 * FRAME);
    await file.close();
    const { wal } = await reopen(dir);
    expect(wal.recovery).toMatchObject({ records: 22, truncatedBytes: 3 * FRAME, reason: 'bad-length' });
    await expectRecordsUpTo(wal, 22);
  });

  it('ends the log at a valid frame that carries the wrong offset', async () => {
    const dir = await writeLog();
    // Copy the frame of record 14 over the frame of record 4: its CRC holds, its offset does not fit.
    const stray = (await readFile(segment(dir, 10))).subarray(4 * FRAME, 5 * FRAME);
    const file = await open(segment(dir, 0), 'r+');
    await file.write(stray, 0, FRAME, 4 * FRAME);
    await file.close();
    const { wal } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 1, records: 4, truncatedBytes: 6 * FRAME + 15 * FRAME, reason: 'unexpected-offset' });
    await expectRecordsUpTo(wal, 4);
  });

  it('ends the log where a segment is missing', async () => {
    const dir = await writeLog();
    await rm(segment(dir, 10));
    const { wal } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 1, records: 10, truncatedBytes: 5 * FRAME, reason: 'unexpected-offset' });
    expect(await segmentFiles(dir)).toEqual([segmentFileName(0)]);
    await expectRecordsUpTo(wal, 10);
  });

  it('keeps the base offset when the very first frame is damaged', async () => {
    const dir = await temp.make();
    const first = await Wal.open({ dir, baseOffset: 300 });
    await first.append([payload(300), payload(301)]);
    await first.close();
    await flipByte(segment(dir, 300), HEADER);
    const { wal } = await reopen(dir);
    expect(wal.recovery).toMatchObject({ segments: 1, records: 0, reason: 'crc-mismatch' });
    expect([wal.startOffset, wal.endOffset]).toEqual([300, 300]);
    expect(await wal.append([payload(300)])).toEqual({ firstOffset: 300, lastOffset: 300 });
  });

  it('ignores files that are not segments', async () => {
    const dir = await writeLog();
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, '12.log'), 'not a segment name');
    const { wal } = await reopen(dir);
    expect(wal.recovery).toEqual({ segments: 3, records: 25, truncatedBytes: 0 });
  });

  it('reports CORRUPT when fsynced data read back from disk no longer matches its CRC', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 460, cacheBytes: 0 });
    await wal.append(Array.from({ length: 5 }, (_, i) => payload(i, 30)));
    await flipByte(segment(dir, 0), 2 * FRAME + HEADER + 1);
    expect((await wal.read(0, 2)).map((r) => r.offset)).toEqual([0, 1]);
    await expect(wal.read(0, 5)).rejects.toMatchObject({ code: 'CORRUPT' });
    await expect(wal.read(3, 1)).rejects.toMatchObject({ code: 'CORRUPT' }); // found while seeking past it
  });
});
