import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { Acks, AppendRecordSchema, BrokerService } from '@partq/proto';
import { closeRpcTransports, createLogger, createRpcClient, loadConfig } from '@partq/runtime';
import { brokerConfigSpec, startBroker, type RunningBroker } from '../src/index.js';
import { FakeManager, type FakeAssignment } from './fake-manager.js';

const logger = createLogger({ role: 'broker-test', instanceId: 'test-broker', level: 'silent' });
const encoder = new TextEncoder();

/** Partitions 0 and 1 of topic 1, epoch 1. */
export const TWO_PARTITIONS: FakeAssignment[] = [
  { topicId: 1, partitionId: 0, epoch: 1 },
  { topicId: 1, partitionId: 1, epoch: 1 },
];

/**
 * A real broker (fsync off) on a temporary data directory, given its partitions by a fake manager,
 * and a Connect client of it: what the RPC tests of one broker start from.
 */
export class TestBroker {
  private constructor(
    readonly dataDir: string,
    readonly manager: FakeManager,
    public broker: RunningBroker,
    public client: Client<typeof BrokerService>,
  ) {}

  /** `argv`: broker flags, e.g. `['--tail-heartbeat', '150ms']`. */
  static async start(assignments: FakeAssignment[], argv: string[] = []): Promise<TestBroker> {
    const dataDir = await mkdtemp(join(tmpdir(), 'partq-broker-rpc-'));
    const manager = await FakeManager.start();
    manager.assign(1, assignments);
    const broker = await startBroker(TestBroker.config(dataDir, manager, argv), { logger });
    return new TestBroker(dataDir, manager, broker, createRpcClient(BrokerService, broker.url));
  }

  /** Stops the broker and starts it again on the same data with other flags. */
  async restart(argv: string[]): Promise<void> {
    await this.broker.stop();
    closeRpcTransports(this.broker.url);
    this.broker = await startBroker(TestBroker.config(this.dataDir, this.manager, argv), { logger });
    this.client = createRpcClient(BrokerService, this.broker.url);
  }

  /** Appends one record per text to a partition of topic 1 (epoch 1, acks=broker). */
  append(partitionId: number, ...texts: string[]): Promise<unknown> {
    return this.client.append({
      topicId: 1,
      partitionId,
      epoch: 1,
      acks: Acks.BROKER,
      records: texts.map((text) => create(AppendRecordSchema, { payload: encoder.encode(text) })),
    });
  }

  async stop(): Promise<void> {
    await this.broker.stop();
    await this.manager.close();
    closeRpcTransports();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  private static config(dataDir: string, manager: FakeManager, argv: string[]) {
    return { ...loadConfig(brokerConfigSpec, { argv, env: {} }), dataDir, managerUrl: manager.url, fsync: false };
  }
}
