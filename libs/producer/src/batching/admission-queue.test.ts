import { Acks } from '@partq/client-core';
import { AdmissionQueue, type QueuedSend } from './admission-queue.js';
import { Batch } from './batch.js';
import { Dispatcher } from './dispatcher.js';
import { PendingSend } from './pending-send.js';
import { batchTarget } from '../../test/batch-target.js';

interface NamedSend extends QueuedSend {
  name: string;
}

/** A dispatcher with one slot on the wire, whose sends finish when the test says so. */
function oneSlotDispatcher() {
  const finish: Array<() => void> = [];
  const dispatcher = new Dispatcher(1, () => new Promise<void>((resolve) => finish.push(resolve)));
  const enqueueOne = () => {
    const batch = new Batch(batchTarget());
    batch.add({ message: { payload: new Uint8Array(1) }, owner: new PendingSend(1), index: 0 });
    dispatcher.enqueue(batch);
  };
  return { dispatcher, enqueueOne, finishOne: () => finish.shift()!() };
}

const send = (name: string, signal?: AbortSignal): NamedSend => ({ name, pending: new PendingSend(1), signal });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('AdmissionQueue', () => {
  it('admits waiting sends in call order once the batches admit, and only while they do', async () => {
    const { dispatcher, enqueueOne, finishOne } = oneSlotDispatcher();
    const admitted: string[] = [];
    // Each admitted send seals a batch of its own: the first takes the slot, the second waits for it.
    const queue = new AdmissionQueue<NamedSend>(dispatcher, (s) => {
      admitted.push(s.name);
      enqueueOne();
    });
    enqueueOne();
    enqueueOne();
    expect(dispatcher.admitsNow).toBe(false);

    for (const name of ['a', 'b', 'c']) queue.push(send(name));
    expect(queue.isEmpty).toBe(false);
    await turn();
    expect(admitted).toEqual([]);

    finishOne(); // the waiting batch takes the slot: 'a' goes in, and its batch waits again
    await turn();
    expect(admitted).toEqual(['a']);
    queue.push(send('d'));
    finishOne();
    await turn();
    expect(admitted).toEqual(['a', 'b']);
    finishOne();
    await turn();
    finishOne();
    await turn();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.isEmpty).toBe(true);

    // Empty again: a later push starts a new round.
    finishOne();
    await turn();
    queue.push(send('e'));
    await turn();
    expect(admitted).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('fails a send ABORTED when its signal fires while it waits, and never admits it', async () => {
    const { dispatcher, enqueueOne, finishOne } = oneSlotDispatcher();
    const admitted: string[] = [];
    const queue = new AdmissionQueue<NamedSend>(dispatcher, (s) => admitted.push(s.name));
    enqueueOne();
    enqueueOne();
    const controller = new AbortController();
    const waiting = send('aborted', controller.signal);
    const outcome = waiting.pending.promise.catch((error: unknown) => error);
    queue.push(waiting);
    queue.push(send('kept'));
    controller.abort();
    expect(await outcome).toMatchObject({ code: 'ABORTED' });

    const early = send('aborted-before', AbortSignal.abort());
    const earlyOutcome = early.pending.promise.catch((error: unknown) => error);
    queue.push(early);
    expect(await earlyOutcome).toMatchObject({ code: 'ABORTED' });

    finishOne();
    await turn();
    expect(admitted).toEqual(['kept']);
  });

  it('stops watching the signal of a send it has admitted', async () => {
    const { dispatcher, enqueueOne, finishOne } = oneSlotDispatcher();
    const queue = new AdmissionQueue<NamedSend>(dispatcher, () => undefined);
    enqueueOne();
    enqueueOne();
    const controller = new AbortController();
    const admittedSend = send('a', controller.signal);
    queue.push(admittedSend);
    finishOne();
    await turn();
    // After admission the producer's own abort handling takes over; the queue must not fail it.
    controller.abort();
    expect(admittedSend.pending.isSettled).toBe(false);
  });
});
