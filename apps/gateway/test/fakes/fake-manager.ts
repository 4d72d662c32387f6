import type { ServiceImpl } from '@connectrpc/connect';
import { ManagerService } from '@partq/proto';
import { PartqError, wrapServiceImpl } from '@partq/runtime';
import type { FakeClusterState } from './fake-cluster-state.js';
import { startFakeServer, type FakeServer } from './fake-server.js';

export interface FakeManager extends FakeServer {
  /** Calls received, by method name. */
  calls: Map<string, number>;
  reportedProducers: Set<number>;
  reportedConsumers: Set<number>;
}

/** The manager's RPCs the gateway uses, over the shared fake state. */
export async function startFakeManager(state: FakeClusterState): Promise<FakeManager> {
  const calls = new Map<string, number>();
  const reportedProducers = new Set<number>();
  const reportedConsumers = new Set<number>();
  const count = (method: string): void => void calls.set(method, (calls.get(method) ?? 0) + 1);

  const impl: Partial<ServiceImpl<typeof ManagerService>> = {
    async *watchMetadata(_request, context) {
      count('watchMetadata');
      const queue: { version: number; delta: Parameters<Parameters<FakeClusterState['onChange']>[0]>[0] }[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = state.onChange((delta, version) => {
        queue.push({ version, delta });
        wake?.();
      });
      const aborted = new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true }));
      try {
        yield { snapshot: true, version: BigInt(state.version), metadata: state.snapshot() };
        while (!context.signal.aborted) {
          const next = queue.shift();
          if (next) {
            yield { snapshot: false, version: BigInt(next.version), metadata: next.delta };
            continue;
          }
          await Promise.race([new Promise<void>((resolve) => (wake = resolve)), aborted]);
        }
      } finally {
        unsubscribe();
      }
    },
    async getMetadata() {
      count('getMetadata');
      return { version: BigInt(state.version), metadata: state.snapshot() };
    },
    async createTopic(request) {
      count('createTopic');
      return state.createTopic(request.name, request.partitions, { retentionMs: request.retentionMs, retentionBytes: request.retentionBytes });
    },
    async updateTopic(request) {
      count('updateTopic');
      return { topic: state.updateTopicLimits(request.name, request.retentionMs, request.retentionBytes) };
    },
    async listTopics() {
      count('listTopics');
      return { topics: [...state.topics.values()] };
    },
    async registerProducer(request) {
      count('registerProducer');
      let topic = state.topicByName(request.topic);
      let topicCreated = false;
      if (!topic) {
        topic = state.createTopic(request.topic, 0).topic;
        topicCreated = true;
      }
      if (request.partitionId !== undefined && request.partitionId >= topic.partitionCount) {
        throw new PartqError('NOT_FOUND', `partition ${request.partitionId} does not exist`);
      }
      const producer = state.registerProducer(topic.id, request.partitionId);
      const partitions = [...state.partitions.values()].filter((p) => p.topicId === topic.id);
      return { producer, topic, partitions, topicCreated };
    },
    async registerConsumer(request) {
      count('registerConsumer');
      const topic = state.topicByName(request.topic);
      if (!topic) throw new PartqError('NOT_FOUND', `topic '${request.topic}' does not exist`);
      const consumer = state.registerConsumer(topic, request.partitionId, request.fromEarliest);
      return { consumer, topic, positions: [] };
    },
    async reportActivity(request) {
      count('reportActivity');
      for (const id of request.producerIds) reportedProducers.add(id);
      for (const id of request.consumerIds) reportedConsumers.add(id);
      return {};
    },
    async getHealth() {
      count('getHealth');
      const now = BigInt(Date.now());
      return {
        entries: [
          ...[...state.brokers.values()].map((b) => ({ kind: 'broker', id: b.id, status: 'alive', lastSeenMs: b.lastHeartbeatMs, detail: b.address })),
          ...[...state.producers.values()].map((p) => ({ kind: 'producer', id: p.id, status: 'active', lastSeenMs: now, detail: '' })),
          ...[...state.consumers.values()].map((c) => ({ kind: 'consumer', id: c.id, status: 'active', lastSeenMs: now, detail: '' })),
          ...[...state.replicas.values()].map((r) => ({ kind: 'replica', id: r.id, status: 'alive', lastSeenMs: r.lastHeartbeatMs, detail: r.address })),
        ],
      };
    },
  };

  const server = await startFakeServer((router) => router.service(ManagerService, wrapServiceImpl(impl)));
  return { ...server, calls, reportedProducers, reportedConsumers };
}
