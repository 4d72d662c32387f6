import { isNetworkErrorCode, isNetworkFailure } from './network-failure.js';

const withCode = (code: string, cause?: unknown): Error => Object.assign(new Error(code, { cause }), { code });

describe('isNetworkErrorCode', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'UND_ERR_SOCKET'])(
    'knows %s',
    (code) => expect(isNetworkErrorCode(code)).toBe(true),
  );

  it.each([undefined, 42, '', 'ENOENT', 'EACCES', 'ERR_INVALID_ARG_TYPE', '23505'])('refuses %p', (code) => {
    expect(isNetworkErrorCode(code)).toBe(false);
  });
});

describe('isNetworkFailure', () => {
  it('finds the system error under wrappers, as fetch, pg and Connect report it', () => {
    expect(isNetworkFailure(new Error('fetch failed', { cause: withCode('ECONNREFUSED') }))).toBe(true);
    expect(isNetworkFailure(new Error('a', { cause: new Error('b', { cause: withCode('EPIPE') }) }))).toBe(true);
  });

  it('is false for other failures, values that are not objects and cycles', () => {
    expect(isNetworkFailure(withCode('ENOENT'))).toBe(false);
    expect(isNetworkFailure(new Error('boom'))).toBe(false);
    expect(isNetworkFailure('ECONNRESET')).toBe(false);
    expect(isNetworkFailure(null)).toBe(false);
    const cyclic: { code: string; cause?: unknown } = { code: 'ENOENT' };
    cyclic.cause = cyclic;
    expect(isNetworkFailure(cyclic)).toBe(false);
  });

  it('looks at most eight errors deep', () => {
    let error: unknown = withCode('ECONNRESET');
    for (let i = 0; i < 7; i++) error = new Error(`wrapper ${i}`, { cause: error });
    expect(isNetworkFailure(error)).toBe(true);
    expect(isNetworkFailure(new Error('one more', { cause: error }))).toBe(false);
  });
});
