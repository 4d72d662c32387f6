import { ENVELOPE_HEADER_BYTES, EnvelopeReader, type Envelope } from './envelope-reader.js';

function envelope(flags: number, data: Buffer): Buffer {
  const header = Buffer.alloc(ENVELOPE_HEADER_BYTES);
  header[0] = flags;
  header.writeUInt32BE(data.length, 1);
  return Buffer.concat([header, data]);
}

/** Feeds `bytes` to a reader in chunks of the given sizes (the last one repeated), and collects what it hands out. */
function read(bytes: Buffer, sizes: number[]): { envelopes: Envelope[]; reader: EnvelopeReader } {
  const reader = new EnvelopeReader();
  const envelopes: Envelope[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    envelopes.push(...reader.push(bytes.subarray(at, at + size)));
    at += size;
  }
  return { envelopes, reader };
}

describe('EnvelopeReader', () => {
  const messages = [Buffer.from('first'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('last')];
  const stream = Buffer.concat([...messages.map((m) => envelope(0, m)), envelope(2, Buffer.from('{}'))]);

  it.each([
    ['the whole stream in one chunk', [stream.length]],
    ['one byte at a time', [1]],
    ['chunks that split headers and messages', [3, 4, 9, 1000, 2]],
    ['HTTP-sized chunks', [16_384]],
  ])('hands out every envelope, in order, from %s', (_name, sizes) => {
    const { envelopes, reader } = read(stream, sizes);
    expect(envelopes.map((e) => e.flags)).toEqual([0, 0, 0, 0, 2]);
    expect(envelopes.slice(0, 4).map((e) => e.data)).toEqual(messages);
    expect(envelopes[4]!.data.toString()).toBe('{}');
    expect(reader.bufferedBytes).toBe(0);
  });

  it('holds an incomplete envelope until its last byte comes', () => {
    const reader = new EnvelopeReader();
    const bytes = envelope(0, Buffer.alloc(10_000, 1));
    expect(reader.push(bytes.subarray(0, 2))).toEqual([]);
    expect(reader.push(bytes.subarray(2, 5000))).toEqual([]);
    expect(reader.bufferedBytes).toBe(5000);
    const [only] = reader.push(bytes.subarray(5000));
    expect(only!.data).toEqual(Buffer.alloc(10_000, 1));
  });

  it('joins the chunks of a large message once, not once per chunk', () => {
    const data = Buffer.alloc(512 * 1024, 3);
    const bytes = envelope(0, data);
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      const { envelopes } = read(bytes, [16_384]);
      expect(envelopes).toHaveLength(1);
      expect(concat).toHaveBeenCalledTimes(1);
    } finally {
      concat.mockRestore();
    }
  });
});
