import { PassThrough, Writable } from 'node:stream';
import { BodyOrder } from './body-order.js';

/** A writable that holds each write until `flush()`, like a socket whose peer reads slowly. */
function heldWritable(log: string[], name: string): Writable & { flush(): void } {
  let pending: (() => void) | undefined;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      log.push(`${name}:${chunk.byteLength}`);
      pending = callback;
    },
  });
  return Object.assign(stream, { flush: () => pending?.() });
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BodyOrder', () => {
  it('starts a body only once every earlier one is written, whatever order the calls end in', async () => {
    const order = new BodyOrder();
    const log: string[] = [];
    const first = order.take();
    const second = order.take();
    const a = heldWritable(log, 'a');
    const b = heldWritable(log, 'b');
    second.end(b, new Uint8Array(2));
    first.end(a, new Uint8Array(1));
    await settle();
    expect(log).toEqual(['a:1']);
    a.flush();
    await settle();
    expect(log).toEqual(['a:1', 'b:2']);
  });

  it('lets later bodies go past a call that skipped its turn or whose stream closed while it waited', async () => {
    const order = new BodyOrder();
    const log: string[] = [];
    const skipped = order.take();
    const closed = order.take();
    const last = order.take();
    const gone = heldWritable(log, 'gone');
    gone.destroy();
    last.end(heldWritable(log, 'last'), new Uint8Array(3));
    closed.end(gone, new Uint8Array(9));
    await settle();
    expect(log).toEqual([]);
    skipped.skip();
    await settle();
    expect(log).toEqual(['last:3']);
  });

  it('lets the next body go when a stream is destroyed before its body is flushed', async () => {
    const order = new BodyOrder();
    const log: string[] = [];
    const stuck = heldWritable(log, 'stuck');
    order.take().end(stuck, new Uint8Array(1));
    const next = new PassThrough();
    order.take().end(next, new Uint8Array(4));
    await settle();
    expect(log).toEqual(['stuck:1']);
    stuck.destroy();
    await settle();
    expect(next.writableEnded).toBe(true);
  });

  it('uses a turn once', async () => {
    const order = new BodyOrder();
    const turn = order.take();
    const stream = new PassThrough();
    turn.skip();
    turn.end(stream, new Uint8Array(1));
    await settle();
    expect(stream.writableEnded).toBe(false);
  });
});
