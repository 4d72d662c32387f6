import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER } from './connect-mapping.js';
import { PartqError } from './partq-error.js';
import { wrapServiceImpl, type ServiceErrorInfo } from './wrap-service.js';

async function rejection(promise: unknown): Promise<ConnectError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof ConnectError) return e;
    throw new Error(`expected a ConnectError, got ${String(e)}`);
  }
  throw new Error('expected a rejection');
}

async function drain(iterable: AsyncIterable<number>): Promise<number[]> {
  const seen: number[] = [];
  for await (const value of iterable) seen.push(value);
  return seen;
}

describe('wrapServiceImpl', () => {
  const impl = {
    async append(n: number) {
      if (n < 0) throw new PartqError('INVALID_ARGUMENT', 'negative', { n });
      return n * 2;
    },
    lookup() {
      throw new PartqError('NOT_FOUND', 'sync throw');
    },
    async *stream(n: number) {
      yield 1;
      yield 2;
      if (n > 2) throw new PartqError('STALE_EPOCH', 'moved');
    },
    async crash() {
      throw new Error('password=hunter2');
    },
  };

  it('passes results through untouched', async () => {
    const wrapped = wrapServiceImpl(impl);
    await expect(wrapped.append(4)).resolves.toBe(8);
    await expect(drain(wrapped.stream(2))).resolves.toEqual([1, 2]);
  });

  it('turns a rejected promise into a ConnectError with the partq code', async () => {
    const err = await rejection(wrapServiceImpl(impl).append(-1));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.metadata.get(ERROR_CODE_HEADER)).toBe('INVALID_ARGUMENT');
  });

  it('turns a synchronous throw into a ConnectError', () => {
    const wrapped = wrapServiceImpl(impl);
    expect(() => wrapped.lookup()).toThrow(ConnectError);
  });

  it('turns an error in the middle of a stream into a ConnectError after the messages before it', async () => {
    const seen: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const value of wrapServiceImpl(impl).stream(3)) seen.push(value);
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.metadata.get(ERROR_CODE_HEADER)).toBe('STALE_EPOCH');
  });

  it('reports each failure with the original error, and sends no internals', async () => {
    const reported: ServiceErrorInfo[] = [];
    const err = await rejection(wrapServiceImpl(impl, { onError: (info) => reported.push(info) }).crash());
    expect(err.code).toBe(Code.Internal);
    expect(err.message).not.toContain('hunter2');
    expect(reported).toHaveLength(1);
    expect(reported[0]!.method).toBe('crash');
    expect(reported[0]!.code).toBe('INTERNAL');
    expect((reported[0]!.error as Error).message).toBe('password=hunter2');
  });

  it('reports a stream that fails after its caller went away as CANCELLED, not INTERNAL', async () => {
    const reported: ServiceErrorInfo[] = [];
    const gone = new AbortController();
    const service = {
      async *follow(_request: unknown, _context: { signal: AbortSignal }) {
        yield 1;
        gone.abort();
        throw Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' });
      },
    };
    const err = await rejection(drain(wrapServiceImpl(service, { onError: (info) => reported.push(info) }).follow({}, { signal: gone.signal })));
    expect(err.code).toBe(Code.Canceled);
    expect(reported.map((info) => info.code)).toEqual(['CANCELLED']);
  });

  it('wraps the methods of a class instance, bound to it', async () => {
    class Service {
      private readonly factor = 3;
      async times(n: number) {
        if (n === 0) throw new PartqError('EMPTY', 'zero');
        return n * this.factor;
      }
    }
    const wrapped = wrapServiceImpl(new Service());
    await expect(wrapped.times(2)).resolves.toBe(6);
    expect((await rejection(wrapped.times(0))).metadata.get(ERROR_CODE_HEADER)).toBe('EMPTY');
  });
});
