import { defineConfig, heapGrowthOption, type Config } from '@partq/runtime';

const MiB = 1024 * 1024;

/** Every setting of the broker: environment variable, command-line flag (`--help` lists them) and default. */
export const brokerConfigSpec = defineConfig({
  host: { type: 'string', env: 'PARTQ_BROKER_HOST', default: '127.0.0.1', description: 'Address to listen on' },
  port: {
    type: 'integer',
    env: 'PARTQ_BROKER_PORT',
    default: 0,
    min: 0,
    max: 65535,
    description: 'Port to listen on (0: any free port)',
  },
  advertisedUrl: {
    type: 'url',
    env: 'PARTQ_BROKER_ADVERTISED_URL',
    description: 'URL other roles use to reach this broker (default: http://<host>:<port> as bound)',
  },
  dataDir: {
    type: 'string',
    env: 'PARTQ_BROKER_DATA_DIR',
    default: '.partq/broker',
    description: 'Directory of the partition WALs and broker.json',
  },
  managerUrl: {
    type: 'url',
    multiple: true,
    env: 'PARTQ_MANAGER_URL',
    default: 'http://127.0.0.1:7000',
    description: 'URL of the manager (ManagerService); a comma-separated list names standbys to fail over to',
  },
  fsync: {
    type: 'boolean',
    env: 'PARTQ_BROKER_FSYNC',
    default: true,
    description: 'fsync every WAL append before acknowledging (false only for throwaway benchmarks)',
  },
  segmentBytes: {
    type: 'integer',
    env: 'PARTQ_BROKER_SEGMENT_BYTES',
    default: 64 * MiB,
    min: 4096,
    description: 'Size at which a WAL segment file is rolled',
  },
  retainBytes: {
    type: 'integer',
    env: 'PARTQ_BROKER_RETAIN_BYTES',
    // Off by default: a consumer behind read as fast from PostgreSQL (a binary COPY) as from a broker's
    // segments (docs/performance-log.md, twenty-sixth round); keeping them costs disk and restart time.
    default: 0,
    min: 0,
    description:
      'Committed records each partition keeps on disk after the manager put them in PostgreSQL (whole WAL segments), so consumers a little behind read them from the broker rather than PostgreSQL; 0 deletes them at once',
  },
  cacheBytes: {
    type: 'integer',
    env: 'PARTQ_BROKER_CACHE_BYTES',
    default: 8 * MiB,
    min: 0,
    description: 'Per-partition cache of the most recent records (tail reads skip the disk)',
  },
  maxMessageBytes: {
    type: 'integer',
    env: 'PARTQ_MAX_MESSAGE_BYTES',
    default: MiB,
    min: 1,
    max: 32 * MiB,
    description: 'Largest payload (plus key) of one message',
  },
  producerExpiry: {
    type: 'duration',
    env: 'PARTQ_BROKER_PRODUCER_EXPIRY',
    // Kafka's producer.id.expiration.ms. Far above any client's retry horizon (seconds), and a producer id
    // belongs to one client instance, so only ids of clients gone for good expire.
    default: '24h',
    min: 1000,
    description: "How long a partition remembers an idle producer's recent sequences; a retry arriving later lands again",
  },
  stallFence: {
    type: 'duration',
    env: 'PARTQ_BROKER_STALL_FENCE',
    // Below the manager's broker timeout (3 s) less a heartbeat interval (1 s): a shorter stall cannot
    // get the broker declared dead.
    default: '1s',
    min: 200,
    description: 'A stall of the broker process this long (SIGSTOP, paused VM) makes it refuse appends until the manager answers a heartbeat sent after it',
  },
  heapGrowthPercent: heapGrowthOption,
  logLevel: {
    type: 'string',
    env: 'PARTQ_LOG_LEVEL',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    description: 'Log level',
  },
  acksAllTimeout: {
    type: 'duration',
    env: 'PARTQ_BROKER_ACKS_ALL_TIMEOUT',
    default: '10s',
    min: 1,
    description: 'How long an acks=all append waits for the manager to commit it before UNAVAILABLE',
  },
  tailHeartbeat: {
    type: 'duration',
    env: 'PARTQ_BROKER_TAIL_HEARTBEAT',
    default: '5s',
    min: 10,
    // Replicas give up a tail that stayed silent for 15 s.
    max: 10_000,
    description: 'How often a Tail stream with nothing to push sends an empty response, so replicas can tell a quiet partition from a dead path',
  },
});

export type BrokerConfig = Config<typeof brokerConfigSpec>;
