import type { StreamResponse, UnaryResponse } from '@connectrpc/connect';
import { PartqError } from '../errors/partq-error.js';
import { supersededRunError } from '../errors/superseded.js';
import { createMetricsRegistry } from './registry.js';
import { rpcDurationHistogram } from './rpc-duration.js';
import { rpcMetricsInterceptor } from './rpc-metrics-interceptor.js';

type Next = Parameters<ReturnType<typeof rpcMetricsInterceptor>>[0];
type Request = Parameters<Next>[0];

const request = { service: { typeName: 'partq.v1.ReplicaService' }, method: { name: 'ConsumeStream' } } as unknown as Request;

/** The codes the histogram counted, one per call. */
async function countedCodes(registry: ReturnType<typeof createMetricsRegistry>): Promise<string[]> {
  const metric = await rpcDurationHistogram(registry).get();
  return metric.values
    .filter((value) => value.metricName?.endsWith('_count') && value.value > 0)
    .flatMap((value) => Array<string>(value.value).fill(String(value.sharedLabels['code'])))
    .sort();
}

/** Runs one streaming call through the interceptor: `messages` then, if given, `failure`; reads `read` messages (all by default). */
async function streamCall(registry: ReturnType<typeof createMetricsRegistry>, messages: number, failure?: unknown, read = Infinity): Promise<void> {
  const source = async function* (): AsyncGenerator<number> {
    for (let i = 0; i < messages; i++) yield i;
    if (failure) throw failure;
  };
  const next = (async () => ({ stream: true, message: source() }) as unknown as StreamResponse) as unknown as Next;
  const response = (await rpcMetricsInterceptor(rpcDurationHistogram(registry))(next)(request)) as StreamResponse;
  let seen = 0;
  try {
    for await (const _ of response.message) if (++seen >= read) break;
  } catch {
    // the failure is what the test looks at, in the histogram
  }
}

describe('rpcMetricsInterceptor', () => {
  it('counts a unary call as OK, or by the partq code it failed with', async () => {
    const registry = createMetricsRegistry('replica');
    const intercept = rpcMetricsInterceptor(rpcDurationHistogram(registry));
    await intercept((async () => ({ stream: false }) as unknown as UnaryResponse) as unknown as Next)(request);
    await expect(intercept((async () => Promise.reject(new PartqError('NOT_FOUND', 'no such consumer'))) as unknown as Next)(request)).rejects.toThrow();
    expect(await countedCodes(registry)).toEqual(['NOT_FOUND', 'OK']);
  });

  it('counts a stream when it ends: OK, its failure, or CANCELLED when the caller stops reading', async () => {
    const registry = createMetricsRegistry('replica');
    await streamCall(registry, 3);
    await streamCall(registry, 1, new PartqError('UNAVAILABLE', 'the broker went away'));
    await streamCall(registry, 5, undefined, 2);
    expect(await countedCodes(registry)).toEqual(['CANCELLED', 'OK', 'UNAVAILABLE']);
  });

  it('counts a run its own client released or replaced as CANCELLED, not as UNAVAILABLE', async () => {
    const registry = createMetricsRegistry('replica');
    await streamCall(registry, 2, supersededRunError('this stream was released; reconnect'));
    expect(await countedCodes(registry)).toEqual(['CANCELLED']);
  });
});
