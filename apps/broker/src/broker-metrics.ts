import { Counter, Gauge, type Registry } from 'prom-client';
import { LeanHistogram } from '@partq/runtime';
import type { PartitionStore } from './log/partition-store.js';
import type { StorageSpace } from './log/storage-space.js';
import type { StallFence } from './membership/stall-fence.js';

/** Records per Append request: a histogram of batch sizes shows whether callers batch at all. */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/** WAL group commits: fsync latency, and how many records each made durable (the batching that pays for it). */
export function walSyncMetrics(registry: Registry): (seconds: number, records: number) => void {
  const seconds = new LeanHistogram({
    name: 'partq_broker_wal_fsync_seconds',
    help: 'Duration of WAL fdatasync calls (one per group commit)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registry,
  });
  const records = new LeanHistogram({
    name: 'partq_broker_wal_group_commit_records',
    help: 'Records made durable by one WAL fsync',
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registry,
  });
  return (s, n) => {
    seconds.observe(s);
    records.observe(n);
  };
}

/** The broker's own series, registered on the process registry next to the runtime's RPC metrics. */
export class BrokerMetrics {
  private readonly appendedRecords: Counter<'topic_id' | 'partition'>;
  private readonly appendBatchSize: LeanHistogram;
  private readonly openTails: Gauge;
  private readonly tailRecords: Counter;

  constructor(registry: Registry, store: PartitionStore, stallFence: StallFence, space: StorageSpace) {
    this.appendedRecords = new Counter({
      name: 'partq_broker_appended_records_total',
      help: 'Records appended to partition WALs (duplicates of idempotent retries not counted)',
      labelNames: ['topic_id', 'partition'],
      registers: [registry],
    });
    this.appendBatchSize = new LeanHistogram({
      name: 'partq_broker_append_batch_size',
      help: 'Records per Append request',
      buckets: BATCH_SIZE_BUCKETS,
      registry,
    });
    countedElsewhere(registry, 'partq_broker_wal_fsyncs_total', 'fsyncs of WAL segment files (one per group commit)', () => store.walFsyncs);
    sampled(registry, 'partq_broker_owned_partitions', 'Partitions this broker holds a log for', () => store.size);
    sampled(
      registry,
      'partq_broker_producer_states',
      'Producers whose recent sequences a partition remembers for idempotent retries (one per producer and partition)',
      () => store.producerStates,
    );
    countedElsewhere(
      registry,
      'partq_broker_expired_producers_total',
      'Producer states forgotten after PARTQ_BROKER_PRODUCER_EXPIRY without an append',
      () => store.expiredProducers,
    );
    sampled(
      registry,
      'partq_broker_stall_fenced',
      '1 while appends are refused after a stall of the process, until the manager answers a heartbeat',
      () => (stallFence.fenced ? 1 : 0),
    );
    sampled(
      registry,
      'partq_broker_disk_full',
      '1 while the data directory\'s disk is full: appends are refused and the manager moves the partitions away',
      () => (space.full ? 1 : 0),
    );
    countedElsewhere(
      registry,
      'partq_broker_stalls_total',
      'Stalls of the process longer than PARTQ_BROKER_STALL_FENCE (SIGSTOP, a paused VM, a long GC)',
      () => stallFence.stalls,
    );
    this.openTails = new Gauge({
      name: 'partq_broker_tail_streams',
      help: 'Tail streams open (replicas following a partition as it grows)',
      registers: [registry],
    });
    this.tailRecords = new Counter({
      name: 'partq_broker_tail_records_total',
      help: 'Records pushed on tail streams',
      registers: [registry],
    });
  }

  /** A tail stream opened (+1) or ended (-1). */
  tailStreams(change: 1 | -1): void {
    this.openTails.inc(change);
  }

  tailPushed(records: number): void {
    this.tailRecords.inc(records);
  }

  appended(topicId: number, partitionId: number, requestRecords: number, writtenRecords: number): void {
    this.appendBatchSize.observe(requestRecords);
    if (writtenRecords > 0) this.appendedRecords.inc({ topic_id: String(topicId), partition: String(partitionId) }, writtenRecords);
  }
}

/** A gauge read from `value` at scrape time. */
function sampled(registry: Registry, name: string, help: string, value: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value());
    },
  });
}

/** A counter of something another object counts (`total`, never decreasing): brought up to it at scrape time. */
function countedElsewhere(registry: Registry, name: string, help: string, total: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = total();
      if (now > reported) this.inc(now - reported);
      reported = Math.max(reported, now);
    },
  });
}
