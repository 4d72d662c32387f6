import { Acks } from '@partq/client-core';
import { Batch } from './batch.js';
import { Dispatcher } from './dispatcher.js';
import { PendingSend } from './pending-send.js';
import { batchTarget } from '../../test/batch-target.js';

function batchOf(owner: PendingSend, index = 0): Batch {
  const batch = new Batch(batchTarget());
  batch.add({ message: { payload: new Uint8Array(1) }, owner, index });
  return batch;
}

describe('Dispatcher', () => {
  it('keeps at most maxInFlight batches on the wire and admits sends once nothing waits', async () => {
    const finish: Array<() => void> = [];
    const dispatcher = new Dispatcher(2, () => new Promise<void>((resolve) => finish.push(resolve)));
    const owner = new PendingSend(3);
    for (let i = 0; i < 3; i++) dispatcher.enqueue(batchOf(owner, i));
    expect(dispatcher.inFlightCount).toBe(2);
    expect(dispatcher.waitingCount).toBe(1);

    let admitted = false;
    const admission = dispatcher.admission().then(() => (admitted = true));
    await Promise.resolve();
    expect(admitted).toBe(false);
    finish.shift()!();
    await admission;
    expect(admitted).toBe(true);
    expect(dispatcher.inFlightCount).toBe(2);
    expect(dispatcher.waitingCount).toBe(0);
  });

  it('never sends a batch whose messages were all withdrawn', async () => {
    const sent: Batch[] = [];
    let finishFirst!: () => void;
    const dispatcher = new Dispatcher(1, (batch) => {
      sent.push(batch);
      return sent.length === 1 ? new Promise<void>((resolve) => (finishFirst = resolve)) : Promise.resolve();
    });
    const first = new PendingSend(1);
    const gone = new PendingSend(1);
    dispatcher.enqueue(batchOf(first));
    dispatcher.enqueue(batchOf(gone));
    dispatcher.withdraw(gone);
    expect(dispatcher.waitingCount).toBe(0);
    finishFirst();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
  });

  it('sends no new batch while one waits to retry, and resumes once it settles', async () => {
    const sent: Batch[] = [];
    const finish = new Map<Batch, () => void>();
    const failAttempt = new Map<Batch, () => void>();
    const dispatcher = new Dispatcher(2, (batch, retrying) => {
      sent.push(batch);
      failAttempt.set(batch, retrying);
      return new Promise<void>((resolve) => finish.set(batch, resolve));
    });
    const owner = new PendingSend(4);
    const batches = [0, 1, 2, 3].map((i) => batchOf(owner, i));
    for (const batch of batches) dispatcher.enqueue(batch);
    expect(sent).toEqual(batches.slice(0, 2));
    failAttempt.get(batches[0]!)!(); // the first batch's attempt failed; it backs off

    // The other batch on the wire comes back: its slot stays empty while the first one retries.
    finish.get(batches[1]!)!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(2);
    expect(dispatcher.inFlightCount).toBe(1);
    expect(dispatcher.waitingCount).toBe(2);

    finish.get(batches[0]!)!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual(batches);
  });
});
