import { defineConfig, heapGrowthOption, loadConfig, type LoadConfigOptions } from '@partq/runtime';

export const managerConfigSpec = defineConfig({
  host: { env: 'PARTQ_MANAGER_HOST', type: 'string', default: '127.0.0.1', description: 'Address to listen on' },
  port: { env: 'PARTQ_MANAGER_PORT', type: 'integer', default: 7000, min: 0, max: 65535, description: 'Port of the Connect service (0 = any free port)' },
  advertisedUrl: { env: 'PARTQ_MANAGER_ADVERTISED_URL', type: 'string', description: 'URL other roles use to reach this manager (default http://host:port)' },
  databaseUrl: { env: 'DATABASE_URL', type: 'string', required: true, description: 'PostgreSQL connection string of the Central DB' },
  dataDir: { env: 'PARTQ_MANAGER_DATA_DIR', type: 'string', default: '.partq/manager', description: 'Directory of the manager transaction log' },
  defaultPartitions: { env: 'PARTQ_DEFAULT_PARTITIONS', type: 'integer', default: 3, min: 1, max: 1024, description: 'Partitions of a topic created without a count' },
  heartbeatInterval: { env: 'PARTQ_HEARTBEAT_INTERVAL', type: 'duration', default: 1000, description: 'How often brokers and replicas heartbeat' },
  brokerTimeout: { env: 'PARTQ_BROKER_TIMEOUT', type: 'duration', default: 3000, description: 'A broker silent this long is declared dead and its partitions move' },
  syncInterval: { env: 'PARTQ_SYNC_INTERVAL', type: 'duration', default: 1000, min: 1, max: 5000, description: 'Longest wait before broker records are committed to PostgreSQL (at most 5s)' },
  syncThreshold: { env: 'PARTQ_SYNC_THRESHOLD', type: 'integer', default: 2000, min: 1, description: 'Pending records on a broker that trigger a sync before the interval' },
  syncMaxRecords: { env: 'PARTQ_SYNC_MAX_RECORDS', type: 'integer', default: 20000, min: 1, description: 'Most records committed to PostgreSQL in one transaction' },
  retentionInterval: { env: 'PARTQ_RETENTION_INTERVAL', type: 'duration', default: 5000, min: 100, description: 'How often retention deletes what every subscriber consumed and what is past a topic\'s time or size limit' },
  producerExpiry: {
    env: 'PARTQ_PRODUCER_EXPIRY',
    type: 'duration',
    default: '7d',
    min: 1000,
    description: 'A producer that produces nothing this long is removed (@partq/producer registers again by itself)',
  },
  consumerExpiry: {
    env: 'PARTQ_CONSUMER_EXPIRY',
    type: 'duration',
    default: '7d',
    min: 1000,
    description: 'A consumer that makes no consume call (and has no stream open) this long is removed: its positions stop holding back retention',
  },
  fullDiskResumeAfter: {
    env: 'PARTQ_FULL_DISK_RESUME_AFTER',
    type: 'duration',
    default: '1m',
    description: 'A broker drained because its disk filled up is put back in service once its disk has had room this long (doubled each time it fills again; 0: only an operator resumes it)',
  },
  autoRebalance: { env: 'PARTQ_AUTO_REBALANCE', type: 'boolean', default: true, description: 'Move partitions to a broker that joins, to balance load' },
  heapGrowthPercent: heapGrowthOption,
  logLevel: { env: 'PARTQ_LOG_LEVEL', type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], description: 'Log level' },
});

export type ManagerConfig = ReturnType<typeof loadManagerConfig>;

export function loadManagerConfig(options?: LoadConfigOptions) {
  return loadConfig(managerConfigSpec, options);
}
