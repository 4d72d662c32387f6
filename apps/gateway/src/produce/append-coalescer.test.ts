import { PartqError } from '@partq/runtime';
import { AppendCoalescer, type AppendRecordInit, type CoalescedAnswer, type SendAppend } from './append-coalescer.js';

interface SentAppend {
  records: AppendRecordInit[];
  deadline: number;
  bytes: number;
  succeed(firstOffset: number): void;
  fail(error: unknown): void;
}

/** A broker stand-in that holds every Append until the test settles it. */
function fakeBroker(): { sent: SentAppend[]; send: SendAppend } {
  const sent: SentAppend[] = [];
  const send: SendAppend = (records, deadline, bytes) =>
    new Promise<CoalescedAnswer>((resolve, reject) => {
      sent.push({
        records,
        deadline,
        bytes,
        succeed: (first) => resolve({ offsets: records.map((_, i) => BigInt(first + i)), duplicates: records.map(() => false) }),
        fail: reject,
      });
    });
  return { sent, send };
}

const record = (text: string): AppendRecordInit => ({ payload: Buffer.from(text), producerId: 1 });
const texts = (records: AppendRecordInit[]) => records.map((r) => Buffer.from(r.payload!).toString());
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AppendCoalescer', () => {
  test('an idle lane sends after the current burst; callers arriving meanwhile share the next Append, each with its own offsets', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    const first = coalescer.append('b1|p0', [record('a')], 100, broker.send);
    await tick();
    const second = coalescer.append('b1|p0', [record('b'), record('c')], 200, broker.send);
    const third = coalescer.append('b1|p0', [record('d')], 150, broker.send);
    expect(broker.sent.map((s) => texts(s.records))).toEqual([['a']]);

    broker.sent[0]!.succeed(10);
    await expect(first).resolves.toEqual({ offsets: [10n], duplicates: [false] });
    await tick();
    expect(broker.sent.map((s) => texts(s.records))).toEqual([['a'], ['b', 'c', 'd']]);
    expect(broker.sent[1]!.deadline).toBe(200); // the latest deadline of the group
    expect(broker.sent.map((s) => s.bytes)).toEqual([1, 3]); // payload bytes of each Append

    broker.sent[1]!.succeed(11);
    await expect(second).resolves.toEqual({ offsets: [11n, 12n], duplicates: [false, false] });
    await expect(third).resolves.toEqual({ offsets: [13n], duplicates: [false] });
    expect(coalescer.activeLanes).toBe(0);
  });

  test('callers in one burst (the same turn of the event loop) go out as one Append', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    const first = coalescer.append('l', [record('a')], 1, broker.send);
    const second = coalescer.append('l', [record('b'), record('c')], 1, broker.send);
    expect(broker.sent).toHaveLength(0);
    await tick();
    expect(broker.sent.map((s) => texts(s.records))).toEqual([['a', 'b', 'c']]);
    broker.sent[0]!.succeed(5);
    await expect(first).resolves.toEqual({ offsets: [5n], duplicates: [false] });
    await expect(second).resolves.toEqual({ offsets: [6n, 7n], duplicates: [false, false] });
    expect(coalescer.activeLanes).toBe(0);
  });

  test('tells whether callers wait behind the Append in flight', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    expect(coalescer.hasWaiting('l')).toBe(false);
    const first = coalescer.append('l', [record('a')], 1, broker.send);
    await tick();
    expect(coalescer.hasWaiting('l')).toBe(false);
    const second = coalescer.append('l', [record('b')], 1, broker.send);
    expect(coalescer.hasWaiting('l')).toBe(true);
    expect(coalescer.hasWaiting('other')).toBe(false);
    broker.sent[0]!.succeed(0);
    await first;
    await tick();
    expect(coalescer.hasWaiting('l')).toBe(false);
    broker.sent[1]!.succeed(1);
    await second;
  });

  test('reports how long each caller waited for the Append before it', async () => {
    const waits: number[] = [];
    const coalescer = new AppendCoalescer({ onWaited: (ms) => waits.push(ms) });
    const broker = fakeBroker();
    const first = coalescer.append('l', [record('a')], 1, broker.send);
    await tick();
    expect(waits).toHaveLength(1);
    const second = coalescer.append('l', [record('b')], 1, broker.send);
    const third = coalescer.append('l', [record('c')], 1, broker.send);
    await new Promise((resolve) => setTimeout(resolve, 100));
    broker.sent[0]!.succeed(0);
    await first;
    await tick();
    await Promise.all([second, third, broker.sent[1]!.succeed(1)]);
    // The first went out after its own burst; the two behind it waited out the 100 ms it was held.
    expect(waits).toHaveLength(3);
    expect(waits[1]).toBeGreaterThanOrEqual(99);
    expect(waits[2]).toBeGreaterThanOrEqual(99);
    expect(waits[0]).toBeLessThan(waits[1]!);
  });

  test('lanes are independent', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    void coalescer.append('b1|p0', [record('a')], 100, broker.send);
    void coalescer.append('b1|p1', [record('b')], 100, broker.send);
    await tick();
    expect(broker.sent.map((s) => texts(s.records))).toEqual([['a'], ['b']]);
  });

  test('a combined Append stays within the limits, but one caller goes whole', async () => {
    const coalescer = new AppendCoalescer({ maxRecords: 2 });
    const broker = fakeBroker();
    void coalescer.append('l', [record('a')], 1, broker.send);
    await tick();
    void coalescer.append('l', [record('b')], 1, broker.send);
    void coalescer.append('l', [record('c')], 1, broker.send);
    void coalescer.append('l', [record('d'), record('e'), record('f')], 1, broker.send);
    broker.sent[0]!.succeed(0);
    await tick();
    broker.sent[1]!.succeed(1);
    await tick();
    expect(broker.sent.map((s) => texts(s.records))).toEqual([['a'], ['b', 'c'], ['d', 'e', 'f']]);
  });

  test('a failure that may have written something fails every caller of the Append alike', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    const first = coalescer.append('l', [record('a')], 1, broker.send);
    await tick();
    const second = coalescer.append('l', [record('b')], 1, broker.send);
    const third = coalescer.append('l', [record('c')], 1, broker.send);
    broker.sent[0]!.succeed(0);
    await first;
    await tick();
    const moved = new PartqError('NOT_OWNER', 'partition moved');
    broker.sent[1]!.fail(moved);
    await expect(second).rejects.toBe(moved);
    await expect(third).rejects.toBe(moved);
    expect(broker.sent).toHaveLength(2);
  });

  test('a refusal that wrote nothing sends each caller again alone, so one bad request fails only itself', async () => {
    const coalescer = new AppendCoalescer();
    const broker = fakeBroker();
    void coalescer.append('l', [record('a')], 1, broker.send);
    await tick();
    const good = coalescer.append('l', [record('good')], 1, broker.send);
    const bad = coalescer.append('l', [record('bad')], 1, broker.send);
    broker.sent[0]!.succeed(0);
    await tick();
    broker.sent[1]!.fail(new PartqError('OUT_OF_ORDER_SEQUENCE', 'record 1: sequence is below the window'));
    await tick();
    expect(broker.sent.slice(2).map((s) => texts(s.records))).toEqual([['good'], ['bad']]);
    broker.sent[2]!.succeed(1);
    const own = new PartqError('OUT_OF_ORDER_SEQUENCE', 'record 0: sequence is below the window');
    broker.sent[3]!.fail(own);
    await expect(good).resolves.toEqual({ offsets: [1n], duplicates: [false] });
    await expect(bad).rejects.toBe(own);
  });

  test('an answer with the wrong number of offsets is an internal error for everyone in it', async () => {
    const coalescer = new AppendCoalescer();
    const sent: ((answer: CoalescedAnswer) => void)[] = [];
    const send: SendAppend = () => new Promise((resolve) => sent.push(resolve));
    void coalescer.append('l', [record('a')], 1, send);
    await tick();
    const second = coalescer.append('l', [record('b')], 1, send);
    const third = coalescer.append('l', [record('c')], 1, send);
    sent[0]!({ offsets: [0n], duplicates: [false] });
    await tick();
    sent[1]!({ offsets: [1n], duplicates: [false] });
    await expect(second).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(third).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
