import { PartqError } from '@partq/runtime';
import { bytesOfText, textOfBytes } from './payload-text.js';

describe('bytesOfText', () => {
  test('UTF-8 text becomes its exact bytes', () => {
    const text = 'a\u0000é😀"\'; DROP TABLE messages;--\ufeff';
    expect(Buffer.from(bytesOfText(text, 'utf8', 'message')).equals(Buffer.from(text, 'utf8'))).toBe(true);
  });

  test('an unpaired surrogate has no UTF-8 form and is refused', () => {
    expect(() => bytesOfText('x\ud800', 'utf8', 'message')).toThrow(PartqError);
    expect(() => bytesOfText('\udc00x', 'utf8', 'message')).toThrow(/unpaired/);
  });

  test('base64 is decoded strictly', () => {
    expect([...bytesOfText('AP+A', 'base64', 'message')]).toEqual([0, 255, 128]);
    expect(bytesOfText('', 'base64', 'message').byteLength).toBe(0);
    for (const bad of ['AP+', 'A===', 'AP*A', 'AP+A\n']) {
      expect(() => bytesOfText(bad, 'base64', 'message')).toThrow(/base64/);
    }
  });
});

describe('textOfBytes', () => {
  test('valid UTF-8 comes back as the same string, BOM included', () => {
    const text = '\ufeffhé\u0000😀';
    expect(textOfBytes(Buffer.from(text, 'utf8'))).toEqual({ text, encoding: 'utf8' });
  });

  test('bytes that are not UTF-8 come back as base64 rather than replaced', () => {
    expect(textOfBytes(new Uint8Array([0xff, 0x00]))).toEqual({ text: '/wA=', encoding: 'base64' });
  });

  test('base64 when asked for', () => {
    expect(textOfBytes(Buffer.from('hi'), 'base64')).toEqual({ text: 'aGk=', encoding: 'base64' });
  });
});
