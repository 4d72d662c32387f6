import { decodeFrame, encodeFrame, FRAME_HEADER_BYTES, frameBytesFor, MAX_RECORD_BYTES, sealFrame } from './frame.js';

function frame(offset: number, payload: string): Buffer {
  const data = Buffer.from(payload);
  const buffer = Buffer.alloc(frameBytesFor(data.length));
  expect(encodeFrame(buffer, 0, offset, data)).toBe(buffer.length);
  return buffer;
}

describe('frame encoding', () => {
  it('round-trips offset and payload, including offsets above 2^32', () => {
    for (const offset of [0, 1, 0xffff_ffff, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
      const buffer = frame(offset, 'hello');
      const decoded = decodeFrame(buffer, 0);
      expect(decoded).toEqual({ kind: 'frame', offset, payloadStart: FRAME_HEADER_BYTES, frameBytes: buffer.length });
      expect(buffer.subarray(FRAME_HEADER_BYTES).toString()).toBe('hello');
    }
  });

  it('seals a payload already in place into the same frame encodeFrame writes', () => {
    const data = Buffer.from('in place');
    const sealed = Buffer.alloc(4 + frameBytesFor(data.length));
    data.copy(sealed, 4 + FRAME_HEADER_BYTES);
    expect(sealFrame(sealed, 4, 2 ** 33 + 7, data.length)).toBe(frameBytesFor(data.length));
    const encoded = Buffer.alloc(frameBytesFor(data.length));
    encodeFrame(encoded, 0, 2 ** 33 + 7, data);
    expect(sealed.subarray(4)).toEqual(encoded);
  });

  it('decodes a frame in the middle of a buffer', () => {
    const buffer = Buffer.concat([frame(7, 'first'), frame(8, 'second')]);
    const second = decodeFrame(buffer, frameBytesFor(5));
    expect(second).toMatchObject({ kind: 'frame', offset: 8, frameBytes: frameBytesFor(6) });
  });

  it('asks for more bytes when the header or payload is cut short', () => {
    const buffer = frame(3, 'payload');
    expect(decodeFrame(buffer.subarray(0, 10), 0)).toEqual({ kind: 'incomplete', needBytes: FRAME_HEADER_BYTES });
    expect(decodeFrame(buffer.subarray(0, buffer.length - 1), 0)).toEqual({
      kind: 'incomplete',
      needBytes: buffer.length,
    });
  });

  it('rejects a flipped payload byte and a flipped offset byte as CRC mismatches', () => {
    const payloadFlip = frame(3, 'payload');
    payloadFlip[FRAME_HEADER_BYTES + 2]! ^= 0x01;
    expect(decodeFrame(payloadFlip, 0)).toEqual({ kind: 'invalid', problem: 'crc-mismatch' });
    const offsetFlip = frame(3, 'payload');
    offsetFlip[15]! ^= 0x01;
    expect(decodeFrame(offsetFlip, 0)).toEqual({ kind: 'invalid', problem: 'crc-mismatch' });
  });

  it('rejects a length beyond the record limit', () => {
    const buffer = frame(3, 'payload');
    buffer.writeUInt32BE(MAX_RECORD_BYTES + 1, 0);
    expect(decodeFrame(buffer, 0)).toEqual({ kind: 'invalid', problem: 'bad-length' });
  });

  it('never accepts an all-zero header (a pre-allocated or zero-filled tail)', () => {
    expect(decodeFrame(Buffer.alloc(64), 0)).toEqual({ kind: 'invalid', problem: 'crc-mismatch' });
  });
});
