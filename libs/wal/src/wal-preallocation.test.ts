import { copyFile, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openWal, payload, segmentFiles, text, useTempDirs } from '../test/helpers.js';
import { Wal } from './index.js';
import { FRAME_HEADER_BYTES } from './frame.js';
import { segmentFileName } from './segment-file-name.js';

const temp = useTempDirs();
const segment = (dir: string, baseOffset: number) => join(dir, segmentFileName(baseOffset));
const frames = (count: number, size: number) => count * (FRAME_HEADER_BYTES + size);

/** A copy of the log's files as a crash would leave them: the zeros still there. */
async function crashImage(dir: string): Promise<string> {
  const copy = await temp.make();
  for (const name of await segmentFiles(dir)) await copyFile(join(dir, name), join(copy, name));
  return copy;
}

async function records(wal: Wal): Promise<string[]> {
  const all: string[] = [];
  for await (const record of wal.readAll()) all.push(text(record.data).split('-')[1]!);
  return all;
}

describe('Wal preallocation (zeros written ahead of small commits)', () => {
  it('writes zeros past a small commit, to a page boundary, and reads never see them', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    await wal.append([payload(0, 100), payload(1, 100)]);
    const bytes = await readFile(segment(dir, 0));
    expect(bytes.length).toBeGreaterThan(frames(2, 100));
    expect(bytes.length % 4096).toBe(0);
    expect(bytes.subarray(frames(2, 100)).every((byte) => byte === 0)).toBe(true);
    expect(wal.stats.bytes).toBe(frames(2, 100));
    expect(await records(wal)).toEqual(['0', '1']);
  });

  it('lets the next small commits overwrite the zeros without growing the file', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    await wal.append([payload(0, 100)]);
    const size = (await stat(segment(dir, 0))).size;
    for (let i = 1; i < 10; i++) await wal.append([payload(i, 100)]);
    expect((await stat(segment(dir, 0))).size).toBe(size);
    expect(await records(wal)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it('writes no zeros after a large commit, nor without fsync', async () => {
    const large = await temp.make();
    const wal = await openWal(temp, { dir: large });
    await wal.append(Array.from({ length: 300 }, (_, i) => payload(i, 1000)));
    expect((await stat(segment(large, 0))).size).toBe(frames(300, 1000));

    const unsynced = await temp.make();
    const fast = await openWal(temp, { dir: unsynced, fsync: false });
    await fast.append([payload(0, 100)]);
    expect((await stat(segment(unsynced, 0))).size).toBe(frames(1, 100));
  });

  it('cuts the zeros when the log closes, and a reopened log reports nothing', async () => {
    const dir = await temp.make();
    const wal = await Wal.open({ dir });
    await wal.append([payload(0, 100), payload(1, 100)]);
    await wal.close();
    expect((await stat(segment(dir, 0))).size).toBe(frames(2, 100));
    const warn = jest.fn();
    const reopened = await openWal(temp, { dir, logger: { warn } });
    expect(reopened.recovery).toEqual({ segments: 1, records: 2, truncatedBytes: 0 });
    expect(warn).not.toHaveBeenCalled();
  });

  it('cuts the zeros a crash left, quietly, and appends after the last record', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    await wal.append([payload(0, 100)]);
    await wal.append([payload(1, 100)]);
    const image = await crashImage(dir);
    expect((await stat(segment(image, 0))).size).toBeGreaterThan(frames(2, 100));

    const warn = jest.fn();
    const recovered = await openWal(temp, { dir: image, logger: { warn } });
    expect(recovered.recovery).toEqual({ segments: 1, records: 2, truncatedBytes: 0 });
    expect(warn).not.toHaveBeenCalled();
    expect((await stat(segment(image, 0))).size).toBe(frames(2, 100));
    expect(await recovered.append([payload(2, 100)])).toEqual({ firstOffset: 2, lastOffset: 2 });
    expect(await records(recovered)).toEqual(['0', '1', '2']);
  });

  it('reports damage when anything but zeros follows the last record', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    await wal.append([payload(0, 100), payload(1, 100)]);
    const image = await crashImage(dir);
    const size = (await stat(segment(image, 0))).size;
    const file = await open(segment(image, 0), 'r+');
    await file.write(Buffer.from([7]), 0, 1, size - 10);
    await file.close();

    const warn = jest.fn();
    const recovered = await openWal(temp, { dir: image, logger: { warn } });
    expect(recovered.recovery).toEqual({
      segments: 1,
      records: 2,
      truncatedBytes: size - frames(2, 100),
      reason: 'crc-mismatch',
    });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(await records(recovered)).toEqual(['0', '1']);
  });

  it('cuts the zeros of a segment once the log rolls past it', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 8192 });
    for (let i = 0; i < 10; i++) await wal.append([payload(i, 1000)]);
    const names = await segmentFiles(dir);
    expect(names).toEqual([segmentFileName(0), segmentFileName(8)]);
    expect((await stat(segment(dir, 0))).size).toBe(frames(8, 1000));
    // The active segment has zeros up to the segment size, no further.
    expect((await stat(segment(dir, 8))).size).toBe(8192);
    expect(await records(wal)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it('cuts the zeros with the records when the log is truncated, and writes new ones after', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    for (let i = 0; i < 5; i++) await wal.append([payload(i, 100)]);
    await wal.truncateFrom(3);
    expect((await stat(segment(dir, 0))).size).toBe(frames(3, 100));
    await wal.append([payload(3, 100)]);
    expect((await stat(segment(dir, 0))).size).toBeGreaterThan(frames(4, 100));
    const image = await crashImage(dir);
    const recovered = await openWal(temp, { dir: image });
    expect(recovered.recovery).toEqual({ segments: 1, records: 4, truncatedBytes: 0 });
    expect(await records(recovered)).toEqual(['0', '1', '2', '3']);
  });
});
