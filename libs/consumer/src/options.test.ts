import { ConsumerError } from './errors/consumer-error.js';
import { resolveConsumerOptions } from './options.js';

describe('resolveConsumerOptions', () => {
  it('speaks HTTP/2 unless told otherwise', () => {
    expect(resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'] }).httpVersion).toBe('2');
    expect(resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], httpVersion: '1.1' }).httpVersion).toBe('1.1');
  });

  it('refuses an HTTP version it cannot speak', () => {
    const attempt = () => resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], httpVersion: '3' as never });
    expect(attempt).toThrow(ConsumerError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('refuses an option it does not know (a misspelling from JavaScript), at the top and in retry', () => {
    expect(() => resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], maxMessage: 20 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('consumer options: "maxMessage" is not one of urls,') }),
    );
    expect(() => resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], retry: { maxDelay: 5 } } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('consumer options.retry: "maxDelay"') }),
    );
  });

  it('delivers up to 500 messages at a time unless told otherwise, and refuses a bad count', () => {
    expect(resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'] }).maxMessages).toBe(500);
    expect(resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], maxMessages: 20 }).maxMessages).toBe(20);
    for (const maxMessages of [0, 1.5, -3]) {
      expect(() => resolveConsumerOptions({ urls: ['http://127.0.0.1:8080'], maxMessages })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
