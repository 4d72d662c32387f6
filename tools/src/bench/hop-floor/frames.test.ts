import { decodeAck, encodeAck, encodeFrames, FrameReader } from './frames.js';

describe('hop floor frames', () => {
  it('reads back frames however the stream is cut', () => {
    const bodies = [Buffer.from('a'), Buffer.alloc(0), Buffer.alloc(300, 7), Buffer.from('last')];
    const wire = encodeFrames(bodies);
    for (const step of [1, 3, 5, 64, wire.length]) {
      const reader = new FrameReader();
      const got: Buffer[] = [];
      for (let at = 0; at < wire.length; at += step) got.push(...reader.push(wire.subarray(at, at + step)));
      expect(got.map((b) => b.toString('hex'))).toEqual(bodies.map((b) => b.toString('hex')));
      expect(reader.buffered).toBe(0);
    }
  });

  it('keeps an incomplete frame until the rest arrives', () => {
    const wire = encodeFrames([Buffer.from('hello')]);
    const reader = new FrameReader();
    expect(reader.push(wire.subarray(0, 6))).toEqual([]);
    expect(reader.buffered).toBe(6);
    expect(reader.push(wire.subarray(6)).map(String)).toEqual(['hello']);
  });

  it('carries an acknowledged count', () => {
    const [frame] = new FrameReader().push(encodeAck(4242));
    expect(decodeAck(frame!)).toBe(4242);
  });
});
