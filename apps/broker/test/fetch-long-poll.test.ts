import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { Acks, AppendRecordSchema, BrokerService } from '@partq/proto';
import { closeRpcTransports, createLogger, createRpcClient, fromConnectError, loadConfig } from '@partq/runtime';
import { brokerConfigSpec, startBroker, type RunningBroker } from '../src/index.js';
import { FakeManager } from './fake-manager.js';

// Fetch with max_wait_ms over Connect against a real broker: it waits at the end of the log for the
// next durable append instead of answering empty.
const logger = createLogger({ role: 'broker-test', instanceId: 'long-poll', level: 'silent' });
const encoder = new TextEncoder();

let dataDir: string;
let manager: FakeManager;
let broker: RunningBroker;
let client: Client<typeof BrokerService>;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'partq-broker-poll-'));
  manager = await FakeManager.start();
  manager.assign(1, [
    { topicId: 1, partitionId: 0, epoch: 1 },
    { topicId: 1, partitionId: 1, epoch: 1 },
  ]);
  const config = { ...loadConfig(brokerConfigSpec, { argv: [], env: {} }), dataDir, managerUrl: manager.url, fsync: false };
  broker = await startBroker(config, { logger });
  client = createRpcClient(BrokerService, broker.url);
});

afterEach(async () => {
  await broker.stop();
  await manager.close();
  closeRpcTransports();
  await rm(dataDir, { recursive: true, force: true });
});

function append(partitionId: number, text: string): Promise<unknown> {
  return client.append({
    topicId: 1,
    partitionId,
    epoch: 1,
    acks: Acks.BROKER,
    records: [create(AppendRecordSchema, { payload: encoder.encode(text) })],
  });
}

it('waits at the end of the log and answers with the record appended meanwhile', async () => {
  await append(0, 'a');
  const started = Date.now();
  const poll = client.fetch({ topicId: 1, partitionId: 0, offset: 1n, maxWaitMs: 10_000 });
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
  expect((await client.fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 10_000 })).records).toHaveLength(1);

  let started = Date.now();
  expect((await client.fetch({ topicId: 1, partitionId: 0, offset: 1n })).records).toEqual([]);
  expect(Date.now() - started).toBeLessThan(1_000);

  started = Date.now();
  const timedOut = await client.fetch({ topicId: 1, partitionId: 0, offset: 1n, maxWaitMs: 150 });
  expect(timedOut.records).toEqual([]);
  expect(timedOut.endOffset).toBe(1n);
  expect(Date.now() - started).toBeGreaterThanOrEqual(140);
});

it('stops waiting when the caller cancels, and a stopping broker answers its long-polls at once', async () => {
  const controller = new AbortController();
  const cancelled = client.fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 20_000 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await expect(cancelled).rejects.toBeDefined();

  const poll = client.fetch({ topicId: 1, partitionId: 0, offset: 0n, maxWaitMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  const stopping = broker.stop();
  const outcome = await poll.then(
    (answer) => answer.records.length,
    (error: unknown) => fromConnectError(error).code,
  );
  await stopping;
  expect(Date.now() - started).toBeLessThan(5_000);
  expect([0, 'UNAVAILABLE']).toContain(outcome);
});
