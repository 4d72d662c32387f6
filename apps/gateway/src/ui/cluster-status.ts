import { partitionKey, type MetadataView } from '@partq/cluster';
import { fromConnectError, mapWithLimit } from '@partq/runtime';
import { brokerStateName, type ClusterHealth, type HealthReport } from '../admin/health-report.js';
import type { ConsumerReads } from '../consume/consumer-reads.js';
import type { EndOffsetReader } from '../cluster/end-offset-reader.js';
import type { TrafficSampler } from './traffic-sampler.js';

export interface StatusPartition {
  partition_id: number;
  /** 0 while unassigned. */
  broker_id: number;
  epoch: number;
  start_offset: number;
  /** From the owning broker; the committed high watermark when it could not be asked. */
  end_offset: number;
  high_watermark: number;
  /** Bytes of records the Central DB holds for it. */
  stored_bytes: number;
}

export interface StatusTopic {
  name: string;
  partitions: StatusPartition[];
  /** Sum of end offsets: every message ever written. */
  messages: number;
  /** Sum of (end - start): messages still kept. */
  retained: number;
  /** Sum of the partitions' stored bytes. */
  stored_bytes: number;
  /** The topic's limits per partition; null: none. */
  retention_ms: number | null;
  retention_bytes: number | null;
  /** Messages/s through this gateway, averaged over the window. */
  produce_rate: number;
  consume_rate: number;
  /** Messages/s of each sample interval, oldest first. */
  produce_series: number[];
  consume_series: number[];
}

export interface StatusBroker {
  broker_id: number;
  address: string;
  state: string;
  last_heartbeat_ms: number;
  /** Partitions it owns. */
  partitions: number;
}

export interface StatusReplica {
  replica_id: number;
  address: string;
  status: string;
  last_heartbeat_ms: number;
}

export interface StatusProducer {
  producer_id: number;
  topic: string;
  status: string;
  last_activity_ms: number;
}

export interface StatusConsumer {
  consumer_id: number;
  topic: string;
  /** null: the whole topic. */
  partition_id: number | null;
  status: string;
  last_activity_ms: number;
  /** Messages still pending for it (its replica's Size); null when it could not be asked. */
  lag: number | null;
}

/** What GET /ui/api/status answers. */
export interface ClusterStatusSnapshot {
  generated_at_ms: number;
  gateway: { ready: boolean; metadata_version: number };
  rates: {
    window_ms: number;
    sample_interval_ms: number;
    produce_rate: number;
    consume_rate: number;
    produce_series: number[];
    consume_series: number[];
  };
  topics: StatusTopic[];
  brokers: StatusBroker[];
  replicas: StatusReplica[];
  producers: StatusProducer[];
  consumers: StatusConsumer[];
  /** Parts that could not be read this time (manager down, broker unreachable...), for the page to show. */
  problems: string[];
}

export interface ClusterStatusOptions {
  view: MetadataView;
  health: Pick<HealthReport, 'cluster'>;
  reads: Pick<ConsumerReads, 'size'>;
  endOffsets: Pick<EndOffsetReader, 'read'>;
  traffic: Pick<TrafficSampler, 'produce' | 'consume' | 'sampleIntervalMs'>;
  /** A snapshot younger than this is answered again (many open pages cost one snapshot). Default 500 ms. */
  maxAgeMs?: number;
  /** How long one consumer's lag may take. Default 1.5 s. */
  lagTimeoutMs?: number;
  /** Lag is looked up for at most this many consumers per snapshot. Default 200. */
  maxLagLookups?: number;
  now?: () => number;
}

const LAG_CONCURRENCY = 8;

/**
 * The cluster as the status page shows it, from what the gateway has at hand: its metadata view
 * (topics, partitions, owners), the owning brokers' end offsets, the manager's health tables
 * (brokers, producers, consumers, replicas), each consumer's pending count from its replica, and
 * this gateway's traffic rates.
 */
export class ClusterStatus {
  private latest: { atMs: number; snapshot: ClusterStatusSnapshot } | undefined;
  private building: Promise<ClusterStatusSnapshot> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ClusterStatusOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A recent snapshot: the cached one while young enough, else the one being built, else a new one. */
  current(): Promise<ClusterStatusSnapshot> {
    const maxAgeMs = this.options.maxAgeMs ?? 500;
    if (this.latest && this.now() - this.latest.atMs < maxAgeMs) return Promise.resolve(this.latest.snapshot);
    this.building ??= this.snapshot().then(
      (snapshot) => {
        this.latest = { atMs: this.now(), snapshot };
        this.building = undefined;
        return snapshot;
      },
      (error: unknown) => {
        this.building = undefined;
        throw error;
      },
    );
    return this.building;
  }

  async snapshot(): Promise<ClusterStatusSnapshot> {
    const { view, traffic } = this.options;
    const problems: string[] = [];
    const [topics, health] = await Promise.all([this.topics(problems), this.health(problems)]);
    const consumers = await this.consumers(health, problems);

    const owned = new Map<number, number>();
    for (const topic of topics) for (const p of topic.partitions) if (p.broker_id !== 0) owned.set(p.broker_id, (owned.get(p.broker_id) ?? 0) + 1);
    const brokers: StatusBroker[] = health
      ? health.brokers.map((b) => ({ broker_id: b.brokerId, address: b.address, state: b.state, last_heartbeat_ms: b.lastHeartbeatMs, partitions: owned.get(b.brokerId) ?? 0 }))
      : view.brokers().map((b) => ({
          broker_id: b.id,
          address: b.address,
          state: brokerStateName(b.state),
          last_heartbeat_ms: Number(b.lastHeartbeatMs),
          partitions: owned.get(b.id) ?? 0,
        }));
    brokers.sort((a, b) => a.broker_id - b.broker_id);

    return {
      generated_at_ms: this.now(),
      gateway: { ready: view.ready, metadata_version: view.version },
      rates: {
        window_ms: traffic.produce.windowMs,
        sample_interval_ms: traffic.sampleIntervalMs,
        produce_rate: round(traffic.produce.rate()),
        consume_rate: round(traffic.consume.rate()),
        produce_series: traffic.produce.series().map(round),
        consume_series: traffic.consume.series().map(round),
      },
      topics,
      brokers,
      replicas: (health?.replicas ?? []).map((r) => ({ replica_id: r.replicaId, address: r.address, status: r.status, last_heartbeat_ms: r.lastHeartbeatMs })),
      producers: (health?.producers ?? []).map((p) => ({ producer_id: p.id, topic: p.topic, status: p.status, last_activity_ms: p.lastActivityMs })),
      consumers,
      problems,
    };
  }

  private async topics(problems: string[]): Promise<StatusTopic[]> {
    const { view, traffic, endOffsets } = this.options;
    const topics = view.topics();
    const partitions = topics.flatMap((topic) => view.partitionsOf(topic.id));
    const { offsets, unreachable } = await endOffsets.read(partitions);
    if (unreachable.length > 0) problems.push(`end offsets unavailable from broker ${unreachable.join(', ')}; showing committed offsets`);
    return topics.map((topic) => {
      const rows = view.partitionsOf(topic.id).map(
        (p): StatusPartition => ({
          partition_id: p.partitionId,
          broker_id: p.brokerId,
          epoch: p.epoch,
          start_offset: Number(p.logStartOffset),
          end_offset: Number(offsets.get(partitionKey(topic.id, p.partitionId)) ?? p.highWatermark),
          high_watermark: Number(p.highWatermark),
          stored_bytes: Number(p.storedBytes),
        }),
      );
      return {
        name: topic.name,
        partitions: rows,
        messages: rows.reduce((sum, p) => sum + p.end_offset, 0),
        retained: rows.reduce((sum, p) => sum + Math.max(0, p.end_offset - p.start_offset), 0),
        stored_bytes: rows.reduce((sum, p) => sum + p.stored_bytes, 0),
        retention_ms: topic.retentionMs === undefined ? null : Number(topic.retentionMs),
        retention_bytes: topic.retentionBytes === undefined ? null : Number(topic.retentionBytes),
        produce_rate: round(traffic.produce.rate(topic.name)),
        consume_rate: round(traffic.consume.rate(topic.name)),
        produce_series: traffic.produce.series(topic.name).map(round),
        consume_series: traffic.consume.series(topic.name).map(round),
      };
    });
  }

  private async health(problems: string[]): Promise<ClusterHealth | undefined> {
    try {
      const health = await this.options.health.cluster();
      for (const broker of health.brokers.filter((b) => b.diskFull)) {
        problems.push(`broker ${broker.brokerId}'s disk is full: its partitions move to other brokers, and it takes no new ones until it is resumed`);
      }
      for (const failing of health.failingSyncs) {
        const since = failing.lastSyncedMs > 0 ? `; last committed ${new Date(failing.lastSyncedMs).toISOString()}` : '';
        problems.push(`broker ${failing.brokerId}'s records are not being committed to PostgreSQL: ${failing.reason}${since}`);
      }
      return health;
    } catch (error) {
      problems.push(`manager health unavailable (${fromConnectError(error).message}); brokers as this gateway last saw them`);
      return undefined;
    }
  }

  private async consumers(health: ClusterHealth | undefined, problems: string[]): Promise<StatusConsumer[]> {
    if (!health) return [];
    const maxLookups = this.options.maxLagLookups ?? 200;
    const timeoutMs = this.options.lagTimeoutMs ?? 1500;
    const rows = [...health.consumers].sort((a, b) => a.id - b.id);
    let failed = 0;
    const lags = await mapWithLimit(rows, LAG_CONCURRENCY, async (consumer, index) => {
      if (consumer.topic === '' || index >= maxLookups) return null;
      try {
        const answer = await withTimeout(this.options.reads.size(consumer.topic, consumer.id), timeoutMs);
        if (answer === undefined) failed++;
        return answer === undefined ? null : Number(answer.size);
      } catch {
        failed++;
        return null;
      }
    });
    if (failed > 0) problems.push(`lag unavailable for ${failed} consumer(s)`);
    if (rows.length > maxLookups) problems.push(`lag shown for the first ${maxLookups} of ${rows.length} consumers`);
    return rows.map((c, i) => ({
      consumer_id: c.id,
      topic: c.topic,
      partition_id: this.options.view.consumer(c.id)?.partitionId ?? null,
      status: c.status,
      last_activity_ms: c.lastActivityMs,
      lag: lags[i] ?? null,
    }));
  }
}

/** Two decimals are plenty for messages/s, and keep the JSON small. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The promise's value, or undefined once `ms` passed (the call itself is left to finish). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
