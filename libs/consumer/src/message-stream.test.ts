import { ConsumerService, Gateways, type AttemptObserver } from '@partq/client-core';
import { FakeConsumerGateway } from '../test/fake-consumer-gateway.js';
import type { ConsumerError } from './errors/consumer-error.js';
import { consumerErrors } from './errors/rpc-error-mapping.js';
import { MessageStream, type MessageStreamOptions } from './message-stream.js';

const RETRY = { deadlineMs: 5_000, baseDelayMs: 1, maxDelayMs: 5, requestTimeoutMs: 1_000 };

let gateway: FakeConsumerGateway;
let gateways: Gateways<typeof ConsumerService, ConsumerError>;
let consumerId: number;
const status: AttemptObserver<ConsumerError> = { succeeded: () => undefined, failed: () => undefined };

beforeEach(async () => {
  gateway = await FakeConsumerGateway.start();
  gateway.createTopic('t', 2);
  gateways = new Gateways(ConsumerService, [gateway.url], consumerErrors, '1.1');
  consumerId = 1;
  // Registered as the consumer client would (the fake hands out ids from 1).
  await gateways.current().client.register({ topic: 't' });
});

afterEach(async () => {
  gateways.close();
  await gateway.stop();
});

function stream(options: Partial<MessageStreamOptions> = {}): MessageStream {
  return new MessageStream({
    topic: 't',
    gateways,
    registration: async () => ({ topic: 't', consumerId }),
    maxMessages: 10,
    retry: RETRY,
    status,
    onRetry: () => undefined,
    signal: new AbortController().signal,
    ...options,
  });
}

describe('MessageStream', () => {
  it('reconnects with its stream id when not even a heartbeat came for the idle timeout', async () => {
    const retried: string[] = [];
    const s = stream({ idleTimeoutMs: 150, onRetry: (error) => retried.push(error.code) });
    gateway.failNext('consume', { kind: 'go-silent' });
    setTimeout(() => gateway.publish('t', 'after the silence'), 50);
    expect((await s.take()).text()).toBe('after the silence');
    expect(retried).toEqual(['TIMEOUT']);
    expect(gateway.consumeRequests.map((r) => r.streamId)).toEqual([s.streamId, s.streamId]);
    await s.finish();
  });

  it('releases from the first message not handed out, per partition; nothing when it never opened', async () => {
    gateway.publish('t', 'a0', 0);
    gateway.publish('t', 'a1', 0);
    gateway.publish('t', 'a2', 0);
    const s = stream();
    expect((await s.take()).text()).toBe('a0');
    await s.finish();
    await s.finish();
    expect(gateway.releaseRequests).toHaveLength(1);
    expect(gateway.releaseRequests[0]?.next.map((p) => [p.partitionId, Number(p.offset)])).toEqual([[0, 1]]);
    expect(gateway.positionsOf(consumerId)).toEqual([1, 0]);

    await stream().finish();
    expect(gateway.releaseRequests).toHaveLength(1);
  });

  it('stops waiting when its signal fires', async () => {
    const controller = new AbortController();
    const s = stream({ signal: controller.signal });
    const taking = s.take();
    setTimeout(() => controller.abort(), 30);
    await expect(taking).rejects.toMatchObject({ code: 'ABORTED' });
    await s.finish();
    expect(gateway.openStreams).toBe(0);
  });

  it('re-opens between messages once open for checkpointMs, resuming from what it handed out', async () => {
    for (let i = 0; i < 6; i++) gateway.publish('t', `c${i}`, 0);
    const s = stream({ checkpointMs: 0, maxMessages: 2 });
    const got: string[] = [];
    for (let i = 0; i < 6; i++) got.push((await s.take()).text());
    expect(got).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    // A call per delivery of 2: each re-open named the offset after the last message handed out.
    const resumes = gateway.consumeRequests.map((r) => r.resume.map((p) => [p.partitionId, Number(p.offset)]));
    expect(resumes).toEqual([[], [[0, 2]], [[0, 4]]]);
    expect(gateway.consumeRequests.every((r) => r.streamId === s.streamId)).toBe(true);
    await s.finish();
    expect(gateway.positionsOf(consumerId)).toEqual([6, 0]);
  });
});
