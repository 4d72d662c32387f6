import { defineConfig, heapGrowthOption, type Config } from '@partq/runtime';
import { DEFAULT_FETCH_MAX_BYTES } from './fetch/fetch-defaults.js';

/** Every option of the replica: flag `--kebab-name`, the environment variable shown, or the default. */
export const replicaConfigSpec = defineConfig({
  host: { type: 'string', env: 'PARTQ_REPLICA_HOST', default: '127.0.0.1', description: 'Address the Connect server listens on' },
  port: { type: 'integer', env: 'PARTQ_REPLICA_PORT', default: 0, min: 0, max: 65535, description: 'Port of the Connect server (0: any free port)' },
  managerUrl: {
    type: 'url',
    multiple: true,
    env: 'PARTQ_MANAGER_URL',
    default: 'http://127.0.0.1:7000',
    description: 'Connect URL of the manager; a comma-separated list names standbys to fail over to',
  },
  databaseUrl: { type: 'url', env: 'DATABASE_URL', required: true, description: 'Central DB (PostgreSQL); consumer positions are written here' },
  readDatabaseUrl: {
    type: 'url',
    env: 'PARTQ_READ_DATABASE_URL',
    description: 'Optional hot standby for reading committed messages (positions always go to DATABASE_URL)',
  },
  advertisedUrl: {
    type: 'url',
    env: 'PARTQ_REPLICA_ADVERTISED_URL',
    description: 'URL other roles use to reach this replica (default: the URL it listens on)',
  },
  heapGrowthPercent: heapGrowthOption,
  logLevel: {
    type: 'string',
    env: 'PARTQ_LOG_LEVEL',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'Log level',
  },
  fetchMaxRecords: {
    type: 'integer',
    env: 'PARTQ_REPLICA_FETCH_MAX_RECORDS',
    default: 500,
    min: 1,
    max: 100_000,
    description: 'Most messages one consume or delivery takes (the cap of max_messages)',
  },
  readAheadRecords: {
    type: 'integer',
    env: 'PARTQ_REPLICA_READ_AHEAD_RECORDS',
    default: 2000,
    min: 1,
    max: 100_000,
    description:
      'Records read from a broker or PostgreSQL per read of a partition (never fewer than fetch-max-records); what one delivery does not take waits in the read-ahead cache for the next',
  },
  readAheadBytes: {
    type: 'integer',
    env: 'PARTQ_REPLICA_READ_AHEAD_BYTES',
    default: DEFAULT_FETCH_MAX_BYTES,
    min: 1,
    description: 'Bound of one read of a partition in bytes (at least one record or stored batch is read)',
  },
  readAheadCacheBytes: {
    type: 'integer',
    env: 'PARTQ_REPLICA_CACHE_BYTES',
    default: 64 * 1024 * 1024,
    min: 0,
    description: 'Bound of the read-ahead cache of fetched records shared by all consumers (bytes)',
  },
  streamHeartbeat: {
    type: 'duration',
    env: 'PARTQ_REPLICA_STREAM_HEARTBEAT',
    default: '10s',
    min: 1,
    description: 'How often an idle consume stream sends an empty response, so clients notice a dead path',
  },
});

export type ReplicaConfig = Config<typeof replicaConfigSpec>;
