import { Code } from '@connectrpc/connect';
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

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

  it('says what it handed out every checkpointMs beside the open stream, which goes on', async () => {
    for (let i = 0; i < 20; i++) gateway.publish('t', `c${i}`, 0);
    const s = stream({ checkpointMs: 0, maxMessages: 2 });
    const got: string[] = [];
    for (let i = 0; i < 20; i++) {
      got.push((await s.take()).text());
      // Checkpoints are not waited for: give one time to be answered before the next delivery.
      if (i % 2 === 1) await sleep(10);
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
    // One call all along; each checkpoint named the offset after the last message handed out then,
    // at a delivery's end (deliveries of 2), and later ones named later offsets.
    expect(gateway.consumeRequests).toHaveLength(1);
    const named = gateway.checkpointRequests.map((r) => r.next.map((p) => [p.partitionId, Number(p.offset)]));
    expect(named.length).toBeGreaterThanOrEqual(3);
    named.forEach((next, i) => {
      expect(next).toHaveLength(1);
      const [partition, offset] = next[0]!;
      expect(partition).toBe(0);
      expect(offset! % 2).toBe(0);
      expect(offset).toBeLessThanOrEqual(20);
      if (i > 0) expect(offset).toBeGreaterThan(named[i - 1]![0]![1]!);
    });
    expect(gateway.checkpointRequests.every((r) => r.streamId === s.streamId && r.consumerId === consumerId)).toBe(true);
    await s.finish();
    expect(gateway.positionsOf(consumerId)).toEqual([20, 0]);
  });

  it('sends no checkpoint while nothing was handed out since the last', async () => {
    const stop = new AbortController();
    const s = stream({ checkpointMs: 0, signal: stop.signal });
    const taking = s.take();
    // The fake sends a heartbeat every 50 ms: the stream wakes, and has nothing new to say.
    await sleep(200);
    stop.abort();
    await expect(taking).rejects.toMatchObject({ code: 'ABORTED' });
    await s.finish();
    expect(gateway.consumeRequests).toHaveLength(1);
    expect(gateway.checkpointRequests).toHaveLength(0);
  });

  it('says a checkpoint again after a transient failure, on the same stream', async () => {
    for (let i = 0; i < 12; i++) gateway.publish('t', `e${i}`, 0);
    gateway.failNext('checkpoint', { kind: 'error', code: Code.Unavailable });
    const s = stream({ checkpointMs: 0, maxMessages: 2 });
    for (let i = 0; i < 12; i++) {
      expect((await s.take()).text()).toBe(`e${i}`);
      if (i % 2 === 1) await sleep(10);
    }
    expect(gateway.checkpointRequests.length).toBeGreaterThanOrEqual(2);
    expect(gateway.consumeRequests).toHaveLength(1);
    await s.finish();
  });

  it('finish() cancels a checkpoint still in flight instead of waiting for it', async () => {
    for (let i = 0; i < 4; i++) gateway.publish('t', `f${i}`, 0);
    gateway.failNext('checkpoint', { kind: 'go-silent' });
    const s = stream({ checkpointMs: 0, maxMessages: 2 });
    for (let i = 0; i < 3; i++) await s.take();
    for (let i = 0; i < 100 && gateway.checkpointRequests.length === 0; i++) await sleep(10);
    expect(gateway.checkpointRequests).toHaveLength(1);
    // The unanswered call would hold finish() for its 2 s budget.
    const started = performance.now();
    await s.finish();
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(gateway.releaseRequests).toHaveLength(1);
    for (let i = 0; i < 100 && gateway.cancelledCheckpoints === 0; i++) await sleep(10);
    expect(gateway.cancelledCheckpoints).toBe(1);
  });

  it('re-opens with resume to checkpoint when the gateway refuses Checkpoint for good (an older gateway)', async () => {
    for (let i = 0; i < 12; i++) gateway.publish('t', `d${i}`, 0);
    gateway.failNext('checkpoint', { kind: 'error', code: Code.Unimplemented });
    const s = stream({ checkpointMs: 0, maxMessages: 2 });
    let reopenedAt: number | undefined;
    for (let i = 0; i < 12; i++) {
      expect((await s.take()).text()).toBe(`d${i}`);
      if (reopenedAt === undefined && gateway.consumeRequests.length === 2) reopenedAt = i;
      if (i % 2 === 1) await sleep(10);
    }
    // One refused Checkpoint; then the stream re-opened before taking message `reopenedAt`, its
    // resume naming that offset: everything before it was handed out.
    expect(gateway.checkpointRequests).toHaveLength(1);
    expect(reopenedAt).toBeDefined();
    const resume = gateway.consumeRequests[1]!.resume.map((p) => [p.partitionId, Number(p.offset)]);
    expect(resume).toEqual([[0, reopenedAt]]);
    await s.finish();
    expect(gateway.positionsOf(consumerId)).toEqual([12, 0]);
  });
});
