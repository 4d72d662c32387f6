import { PassThrough, Writable } from 'node:stream';
import { LineOutput } from './io.js';

describe('LineOutput', () => {
  it('writes lines and waits for a slow reader', async () => {
    const stream = new PassThrough({ highWaterMark: 4 });
    const out = new LineOutput(stream);
    let written = false;
    const writing = out.line('a long line').then(() => (written = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBe(false);
    expect(String(stream.read())).toBe('a long line\n');
    await writing;
    expect(written).toBe(true);
  });

  it('reports closed, without throwing, when the reader goes away (EPIPE)', async () => {
    const stream = new Writable({
      highWaterMark: 1,
      write: (_chunk, _encoding, callback) => callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })),
    });
    const out = new LineOutput(stream);
    await out.line('first');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.closed).toBe(true);
    await expect(out.line('dropped')).resolves.toBeUndefined();
  });
});
