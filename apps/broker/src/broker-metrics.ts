import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PartitionStore } from './log/partition-store.js';
import type { StallFence } from './membership/stall-fence.js';

/** Records per Append request: a histogram of batch sizes shows whether callers batch at all. */
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/** WAL group commits: fsync latency, and how many records each made durable (the batching that pays for it). */
export function walSyncMetrics(registry: Registry): (seconds: number, records: number) => void {
  const seconds = new Histogram({
    name: 'partq_broker_wal_fsync_seconds',
    help: 'Duration of WAL fdatasync calls (one per group commit)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  });
  const records = new Histogram({
    name: 'partq_broker_wal_group_commit_records',
    help: 'Records made durable by one WAL fsync',
    buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    registers: [registry],
  });
  return (s, n) => {
    seconds.observe(s);
    records.observe(n);
  };
}

/** The broker's own series, registered on the process registry next to the runtime's RPC metrics. */
export class BrokerMetrics {
  private readonly appendedRecords: Counter<'topic_id' | 'partition'>;
  private readonly appendBatchSize: Histogram;
  private readonly openTails: Gauge;
  private readonly tailRecords: Counter;

  constructor(registry: Registry, store: PartitionStore, stallFence: StallFence) {
    this.appendedRecords = new Counter({
      name: 'partq_broker_appended_records_total',
      help: 'Records appended to partition WALs (duplicates of idempotent retries not counted)',
      labelNames: ['topic_id', 'partition'],
      registers: [registry],
    });
    this.appendBatchSize = new Histogram({
      name: 'partq_broker_append_batch_size',
      help: 'Records per Append request',
      buckets: BATCH_SIZE_BUCKETS,
      registers: [registry],
    });
    let reportedFsyncs = 0;
    new Counter({
      name: 'partq_broker_wal_fsyncs_total',
      help: 'fsyncs of WAL segment files (one per group commit)',
      registers: [registry],
      collect() {
        // The WALs count for themselves; bring the counter up to their total at scrape time.
        const total = store.walFsyncs;
        if (total > reportedFsyncs) this.inc(total - reportedFsyncs);
        reportedFsyncs = Math.max(reportedFsyncs, total);
      },
    });
    new Gauge({
      name: 'partq_broker_owned_partitions',
      help: 'Partitions this broker holds a log for',
      registers: [registry],
      collect() {
        this.set(store.size);
      },
    });
    new Gauge({
      name: 'partq_broker_producer_states',
      help: 'Producers whose recent sequences a partition remembers for idempotent retries (one per producer and partition)',
      registers: [registry],
      collect() {
        this.set(store.producerStates);
      },
    });
    let reportedExpired = 0;
    new Counter({
      name: 'partq_broker_expired_producers_total',
      help: 'Producer states forgotten after PARTQ_BROKER_PRODUCER_EXPIRY without an append',
      registers: [registry],
      collect() {
        const total = store.expiredProducers;
        if (total > reportedExpired) this.inc(total - reportedExpired);
        reportedExpired = total;
      },
    });
    new Gauge({
      name: 'partq_broker_stall_fenced',
      help: '1 while appends are refused after a stall of the process, until the manager answers a heartbeat',
      registers: [registry],
      collect() {
        this.set(stallFence.fenced ? 1 : 0);
      },
    });
    let reportedStalls = 0;
    new Counter({
      name: 'partq_broker_stalls_total',
      help: 'Stalls of the process longer than PARTQ_BROKER_STALL_FENCE (SIGSTOP, a paused VM, a long GC)',
      registers: [registry],
      collect() {
        if (stallFence.stalls > reportedStalls) this.inc(stallFence.stalls - reportedStalls);
        reportedStalls = stallFence.stalls;
      },
    });
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
