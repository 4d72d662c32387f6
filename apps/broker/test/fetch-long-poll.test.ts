import { fromConnectError } from '@partq/runtime';
import { TestBroker, TWO_PARTITIONS } from './test-broker.js';

// Fetch with max_wait_ms over Connect against a real broker: it waits at the end of the log for the
// next durable append instead of answering empty.
let test: TestBroker;

beforeEach(async () => {
  test = await TestBroker.start(TWO_PARTITIONS);
});

afterEach(() => test.stop());

const append = (partitionId: number, text: string): Promise<unknown> => test.append(partitionId, text);
const fetch = (...args: Parameters<TestBroker['client']['fetch']>) => test.client.fetch(...args);

it('waits at the end of the log and answers with the record appended meanwhile', async () => {
  await append(0, 'a');
  const started = Date.now();
  const poll = fetch({ topicId: 1, partitionId: 0, offset: 1n, maxWaitMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Another partition's append does not answer it.
  await append(1, 'elsewhere');
  await new Promise((resolve) => setTimeout(resolve, 100));
  await append(0, 'b');
  const answer = await poll;
  expect(answer.records.map((r) => [Number(r.offset), new TextDecoder().decode(r.payload)])).toEqual([[1, 'b']]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  expect(Date.now() - started).toBeLessThan(5_000);
});

it('answers at once when records are there or max_wait_ms is 0, and empty when the wait ends', async () => {
  await append(0, 'a');
  expect((await fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 10_000 })).records).toHaveLength(1);

  let started = Date.now();
  expect((await fetch({ topicId: 1, partitionId: 0, offset: 1n })).records).toEqual([]);
  expect(Date.now() - started).toBeLessThan(1_000);

  started = Date.now();
  const timedOut = await fetch({ topicId: 1, partitionId: 0, offset: 1n, maxWaitMs: 150 });
  expect(timedOut.records).toEqual([]);
  expect(timedOut.endOffset).toBe(1n);
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
});

it('stops waiting when the caller cancels, and a stopping broker answers its long-polls at once', async () => {
  const controller = new AbortController();
  const cancelled = fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 20_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await expect(cancelled).rejects.toBeDefined();

  const poll = fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  const stopping = test.broker.stop();
  const outcome = await poll.then(
    (answer) => answer.records.length,
    (error: unknown) => fromConnectError(error).code,
  );
  await stopping;
  expect(Date.now() - started).toBeLessThan(5_000);
  expect([0, 'UNAVAILABLE']).toContain(outcome);
});
