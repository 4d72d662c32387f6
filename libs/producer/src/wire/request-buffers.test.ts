import { POOLED_MIN_BYTES, RequestBuffers } from './request-buffers.js';

describe('RequestBuffers', () => {
  it('hands a released buffer out again, as a view of the size asked for', () => {
    const buffers = new RequestBuffers();
    const first = buffers.take(100_000);
    expect(first.length).toBe(100_000);
    expect(first.buffer.byteLength).toBe(131_072);
    buffers.release(first);
    const second = buffers.take(120_000);
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(120_000);
  });

  it('makes a new buffer when no idle one is large enough', () => {
    const buffers = new RequestBuffers();
    const small = buffers.take(POOLED_MIN_BYTES);
    buffers.release(small);
    const large = buffers.take(POOLED_MIN_BYTES * 3);
    expect(large.buffer).not.toBe(small.buffer);
    expect(buffers.take(POOLED_MIN_BYTES).buffer).toBe(small.buffer);
  });

  it('never lends one buffer twice: a second release, or one of bytes it did not lend, is ignored', () => {
    const buffers = new RequestBuffers();
    const lent = buffers.take(POOLED_MIN_BYTES);
    buffers.release(lent);
    buffers.release(lent);
    buffers.release(Buffer.allocUnsafeSlow(POOLED_MIN_BYTES));
    buffers.release(undefined);
    const a = buffers.take(POOLED_MIN_BYTES);
    const b = buffers.take(POOLED_MIN_BYTES);
    expect(a.buffer).toBe(lent.buffer);
    expect(b.buffer).not.toBe(lent.buffer);
  });

  it('leaves small requests to Node and keeps no more idle buffers than its limit', () => {
    const buffers = new RequestBuffers(2);
    const small = buffers.take(1000);
    buffers.release(small);
    // Node's shared pool gives the next small one the bytes after it.
    const next = buffers.take(1000);
    expect(next.buffer !== small.buffer || next.byteOffset !== small.byteOffset).toBe(true);

    const lent = [1, 2, 3].map(() => buffers.take(POOLED_MIN_BYTES));
    for (const bytes of lent) buffers.release(bytes);
    const again = [1, 2, 3].map(() => buffers.take(POOLED_MIN_BYTES).buffer);
    expect(again.filter((store) => lent.some((bytes) => bytes.buffer === store))).toHaveLength(2);
  });

  it('lets its idle buffers go on clear', () => {
    const buffers = new RequestBuffers();
    const lent = buffers.take(POOLED_MIN_BYTES);
    buffers.release(lent);
    buffers.clear();
    expect(buffers.take(POOLED_MIN_BYTES).buffer).not.toBe(lent.buffer);
  });
});
