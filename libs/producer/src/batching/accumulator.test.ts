import { Acks } from '@partq/client-core';
import { Accumulator } from './accumulator.js';
import { MESSAGE_OVERHEAD_BYTES, type Batch, type BatchTarget } from './batch.js';
import { PendingSend } from './pending-send.js';
import { batchTarget } from '../../test/batch-target.js';

const target: BatchTarget = batchTarget();

function entry(owner: PendingSend, index: number, bytes = 10) {
  return { message: { payload: new Uint8Array(bytes) }, owner, index };
}

/** Flushed after each test so no linger timer outlives it. */
const created: Accumulator[] = [];

function accumulator(options: { lingerMs?: number; maxBatchCount?: number; maxBatchBytes?: number } = {}) {
  const sealed: Batch[] = [];
  const acc = new Accumulator({
    lingerMs: options.lingerMs ?? 60_000,
    maxBatchCount: options.maxBatchCount ?? 1000,
    maxBatchBytes: options.maxBatchBytes ?? 1 << 20,
    onSealed: (batch) => sealed.push(batch),
  });
  created.push(acc);
  return { acc, sealed };
}

describe('Accumulator', () => {
  afterEach(() => {
    for (const acc of created.splice(0)) acc.beginFlush();
    jest.useRealTimers();
  });

  it('seals when the count limit is reached', () => {
    const { acc, sealed } = accumulator({ maxBatchCount: 2 });
    const owner = new PendingSend(5);
    for (let i = 0; i < 5; i++) acc.append(target, entry(owner, i));
    expect(sealed.map((b) => b.count)).toEqual([2, 2]);
    acc.beginFlush();
    expect(sealed.map((b) => b.count)).toEqual([2, 2, 1]);
  });

  it('starts a new batch when a message would exceed the byte limit', () => {
    const { acc, sealed } = accumulator({ maxBatchBytes: 3 * (10 + MESSAGE_OVERHEAD_BYTES) - 1 });
    const owner = new PendingSend(3);
    for (let i = 0; i < 3; i++) acc.append(target, entry(owner, i));
    expect(sealed.map((b) => b.count)).toEqual([2]);
  });

  it('sends a message bigger than the byte limit alone', () => {
    const { acc, sealed } = accumulator({ maxBatchBytes: 50 });
    const owner = new PendingSend(2);
    acc.append(target, entry(owner, 0, 10));
    acc.append(target, entry(owner, 1, 500));
    expect(sealed.map((b) => b.count)).toEqual([1, 1]);
  });

  it('seals after lingerMs', () => {
    jest.useFakeTimers();
    const { acc, sealed } = accumulator({ lingerMs: 5 });
    acc.append(target, entry(new PendingSend(1), 0));
    expect(sealed).toHaveLength(0);
    jest.advanceTimersByTime(5);
    expect(sealed.map((b) => b.count)).toEqual([1]);
  });

  it('without linger, seals after the current turn of the event loop, with no timer (Node makes 0 ms into 1 ms)', async () => {
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const { acc, sealed } = accumulator({ lingerMs: 0 });
    const owner = new PendingSend(2);
    acc.append(target, entry(owner, 0));
    acc.append(target, entry(owner, 1));
    expect(setTimeoutSpy).not.toHaveBeenCalled();
    setTimeoutSpy.mockRestore();
    expect(sealed).toHaveLength(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
    // Both sends of the turn share the batch.
    expect(sealed.map((b) => b.count)).toEqual([2]);
  });

  it('keeps one batch per topic, producer id and acks', () => {
    const { acc, sealed } = accumulator();
    const owner = new PendingSend(4);
    acc.append(target, entry(owner, 0));
    acc.append({ ...target, topic: 'u' }, entry(owner, 1));
    acc.append({ ...target, producerId: 2 }, entry(owner, 2));
    acc.append({ ...target, acks: Acks.ALL }, entry(owner, 3));
    acc.beginFlush();
    expect(sealed).toHaveLength(4);
  });

  it('withdraws the messages of one send and drops a batch left empty', () => {
    const { acc, sealed } = accumulator();
    const gone = new PendingSend(2);
    const kept = new PendingSend(1);
    acc.append(target, entry(gone, 0));
    acc.append({ ...target, topic: 'u' }, entry(gone, 1));
    acc.append({ ...target, topic: 'u' }, entry(kept, 0));
    acc.withdraw(gone);
    acc.beginFlush();
    expect(sealed.map((b) => [b.target.topic, b.count])).toEqual([['u', 1]]);
  });

  it('does not linger while a flush is in progress', () => {
    jest.useFakeTimers();
    const { acc, sealed } = accumulator({ lingerMs: 60_000 });
    acc.beginFlush();
    acc.append(target, entry(new PendingSend(1), 0));
    jest.advanceTimersByTime(0);
    expect(sealed).toHaveLength(1);
    acc.endFlush();
  });
});
