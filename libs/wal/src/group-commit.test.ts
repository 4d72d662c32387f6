import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { openWal, payload, text, useTempDirs } from '../test/helpers.js';
import { Wal, WalError, type AppendResult } from './index.js';

const temp = useTempDirs();

/** The prototype every node:fs/promises FileHandle shares, so tests can hook datasync. */
async function fileHandlePrototype(dir: string): Promise<{ datasync(): Promise<void> }> {
  const probe = await open(join(dir, 'probe'), 'w');
  await probe.close();
  return Object.getPrototypeOf(probe) as { datasync(): Promise<void> };
}

describe('Wal group commit', () => {
  afterEach(() => jest.restoreAllMocks());

  it('200 concurrent appends cost far fewer than 200 fsyncs, and keep call order', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.append([payload(i)])));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => ({ firstOffset: i, lastOffset: i })));
    expect(wal.stats.appends).toBe(200);
    expect(wal.stats.records).toBe(200);
    expect(wal.stats.fsyncs).toBeGreaterThan(0);
    expect(wal.stats.fsyncs).toBeLessThanOrEqual(5);
    const records = await wal.read(0, 1000);
    expect(records.map((r) => text(r.data))).toEqual(Array.from({ length: 200 }, (_, i) => `record-${i}-`));
  });

  it('reports each group commit (its fsync time and how many records it made durable) to onSync', async () => {
    const dir = await temp.make();
    const syncs: { seconds: number; records: number }[] = [];
    const wal = await openWal(temp, { dir, onSync: (seconds, records) => syncs.push({ seconds, records }) });
    await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append([payload(i), payload(i)])));
    expect(syncs.length).toBe(wal.stats.fsyncs);
    expect(syncs.reduce((n, s) => n + s.records, 0)).toBe(100);
    expect(syncs.every((s) => s.seconds >= 0)).toBe(true);
  });

  it('batches the appends that arrive while a write + fsync is in flight into one fsync', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir });
    const prototype = await fileHandlePrototype(dir);
    const original = prototype.datasync;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let syncing!: () => void;
    const firstSyncStarted = new Promise<void>((resolve) => (syncing = resolve));
    jest.spyOn(prototype, 'datasync').mockImplementationOnce(async function (this: unknown) {
      syncing();
      await released;
      return original.call(this);
    });

    const first = wal.append([payload(0)]);
    await firstSyncStarted;
    const rest = Array.from({ length: 100 }, (_, i) => wal.append([payload(i + 1)]));
    expect(wal.endOffset).toBe(0); // nothing is acknowledged or readable before its fsync
    expect(await wal.read(0, 10)).toEqual([]);
    release();
    expect(await first).toEqual({ firstOffset: 0, lastOffset: 0 });
    const results = await Promise.all(rest);
    expect(results.at(-1)).toEqual({ firstOffset: 100, lastOffset: 100 });
    expect(wal.stats.fsyncs).toBe(2);
  });

  it('gives concurrent multi-record appends contiguous ranges in call order', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, segmentBytes: 1000, fsync: false });
    const sizes = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7) % 5));
    let label = 0;
    const batches = sizes.map((size) => Array.from({ length: size }, () => payload(label++, 25)));
    const results: AppendResult[] = await Promise.all(batches.map((records) => wal.append(records)));
    let expected = 0;
    results.forEach((result, i) => {
      expect(result).toEqual({ firstOffset: expected, lastOffset: expected + sizes[i]! - 1 });
      expected += sizes[i]!;
    });
    const all = [];
    for await (const record of wal.readAll()) all.push(record);
    expect(all.map((r) => text(r.data).split('-')[1])).toEqual(Array.from({ length: label }, (_, i) => String(i)));
  });

  it('rejects the appends of a failed fsync and refuses later ones rather than leaving a gap', async () => {
    const dir = await temp.make();
    const warn = jest.fn();
    const wal = await openWal(temp, { dir, logger: { warn } });
    await wal.append([payload(0), payload(1)]);
    const prototype = await fileHandlePrototype(dir);
    jest.spyOn(prototype, 'datasync').mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));

    const failed = Promise.allSettled([wal.append([payload(2)]), wal.append([payload(3)])]);
    const outcomes = await failed;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as WalError;
      expect(reason).toBeInstanceOf(WalError);
      expect(reason.code).toBe('WRITE_FAILED');
    }
    expect(warn).toHaveBeenCalled();
    await expect(wal.append([payload(4)])).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    await expect(wal.truncateFrom(1)).rejects.toMatchObject({ code: 'WRITE_FAILED' });
    // What was durable stays readable, and nothing past it is visible.
    expect(wal.endOffset).toBe(2);
    expect((await wal.read(0, 10)).map((r) => r.offset)).toEqual([0, 1]);
    await wal.close();

    jest.restoreAllMocks();
    const reopened = await openWal(temp, { dir });
    // The failed batch reached the page cache, so recovery may keep it: a rejected append is "maybe written".
    expect(reopened.endOffset).toBeGreaterThanOrEqual(2);
    const next = reopened.endOffset;
    expect(await reopened.append([payload(9)])).toEqual({ firstOffset: next, lastOffset: next });
  });

  it('does not fsync when fsync is off', async () => {
    const dir = await temp.make();
    const wal = await openWal(temp, { dir, fsync: false });
    await Promise.all(Array.from({ length: 10 }, (_, i) => wal.append([payload(i)])));
    expect(wal.stats).toMatchObject({ appends: 10, records: 10, fsyncs: 0 });
    expect(wal.stats.bytes).toBeGreaterThan(0);
  });
});

describe('Wal concurrency with maintenance', () => {
  it('serves reads while appends and trims run', async () => {
    const dir = await temp.make();
    const wal: Wal = await openWal(temp, { dir, segmentBytes: 2000, cacheBytes: 0, fsync: false });
    await wal.append(Array.from({ length: 100 }, (_, i) => payload(i, 20)));
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      work.push(wal.append(Array.from({ length: 10 }, (_, j) => payload(100 + i * 10 + j, 20))));
      work.push(wal.read(wal.startOffset, 50).then((records) => {
        records.forEach((r) => expect(text(r.data).startsWith(`record-${r.offset}-`)).toBe(true));
      }));
      if (i % 5 === 4) work.push(wal.trimBefore(i * 10));
    }
    await Promise.all(work);
    expect(wal.endOffset).toBe(300);
  });
});
