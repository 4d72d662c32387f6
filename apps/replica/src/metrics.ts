import { Counter, Gauge, type Registry } from 'prom-client';
import { LeanHistogram } from '@partq/runtime';

/** Where the records of a read came from. */
export type FetchSource = 'broker' | 'cache' | 'postgres';

export interface ReplicaMetrics {
  consumedMessages: Counter<'topic'>;
  fetchSource: Counter<'source'>;
  consumeDuration: LeanHistogram<'outcome'>;
  replayedConsumes: Counter;
  openStreams: Gauge;
  streamResponses: Counter<'kind'>;
  streamWakeups: Counter;
  rewoundMessages: Counter;
  openTails: Gauge;
  tailRecords: Counter;
}

/** The replica's own series, registered on the process registry. */
export function createReplicaMetrics(registry: Registry): ReplicaMetrics {
  return {
    consumedMessages: new Counter({
      name: 'partq_replica_consumed_messages_total',
      help: 'Messages delivered to consumers (their positions committed), by topic',
      labelNames: ['topic'],
      registers: [registry],
    }),
    fetchSource: new Counter({
      name: 'partq_replica_fetch_source_total',
      help: 'Partition reads that returned records, by where the records came from',
      labelNames: ['source'],
      registers: [registry],
    }),
    consumeDuration: new LeanHistogram({
      name: 'partq_replica_consume_duration_seconds',
      help: 'Duration of Consume calls, by outcome (messages, empty, error)',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registry,
    }),
    replayedConsumes: new Counter({
      name: 'partq_replica_replayed_consumes_total',
      help: 'Consumes retried with the last request id and answered with the same delivery',
      registers: [registry],
    }),
    openStreams: new Gauge({
      name: 'partq_replica_consume_streams',
      help: 'ConsumeStream calls open now',
      registers: [registry],
    }),
    streamResponses: new Counter({
      name: 'partq_replica_stream_responses_total',
      help: 'Responses sent on consume streams, by kind (messages, heartbeat)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    streamWakeups: new Counter({
      name: 'partq_replica_stream_wakeups_total',
      help: 'Times an idle consume stream stopped waiting to look for messages again',
      registers: [registry],
    }),
    rewoundMessages: new Counter({
      name: 'partq_replica_rewound_messages_total',
      help: 'Messages consume streams delivered but their clients never handed out, given back on resume or release',
      registers: [registry],
    }),
    openTails: new Gauge({
      name: 'partq_replica_tails',
      help: 'Tail streams open to brokers (partitions followed as they grow, for consumers that caught up)',
      registers: [registry],
    }),
    tailRecords: new Counter({
      name: 'partq_replica_tail_records_total',
      help: 'Records brokers pushed on tail streams',
      registers: [registry],
    }),
  };
}
