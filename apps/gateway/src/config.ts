import { defineConfig, heapGrowthOption, loadConfig, type Config, type LoadConfigOptions } from '@partq/runtime';

const MIB = 1024 * 1024;
/** JSON escaping and the envelope around a message: room for the fields next to a 2x-escaped payload. */
const JSON_OVERHEAD_BYTES = 64 * 1024;
/** A batch produce carries many messages in one body. */
const DEFAULT_BATCH_BODY_LIMIT_BYTES = 16 * MIB;

export const gatewayConfigSpec = defineConfig({
  host: { type: 'string', env: 'PARTQ_GATEWAY_HOST', default: '127.0.0.1', description: 'Address to listen on' },
  port: { type: 'integer', env: 'PARTQ_GATEWAY_PORT', default: 8080, min: 0, max: 65535, description: 'Port to listen on (0 picks a free one)' },
  managerUrl: {
    type: 'url',
    multiple: true,
    env: 'PARTQ_MANAGER_URL',
    default: 'http://127.0.0.1:7000',
    description: 'Base URL of the manager; a comma-separated list names standbys to fail over to',
  },
  maxMessageBytes: {
    type: 'integer',
    env: 'PARTQ_MAX_MESSAGE_BYTES',
    default: MIB,
    min: 1,
    description: 'Largest message accepted (payload plus key, in bytes)',
  },
  bodyLimit: {
    type: 'integer',
    env: 'PARTQ_GATEWAY_BODY_LIMIT',
    min: 1024,
    description: 'Largest REST request body in bytes (default: 2 x maxMessageBytes + 64 KiB)',
  },
  batchBodyLimit: {
    type: 'integer',
    env: 'PARTQ_GATEWAY_BATCH_BODY_LIMIT',
    min: 1024,
    description: 'Largest body of a produce request (batches) and of a Connect call, in bytes (default: 16 MiB, at least bodyLimit)',
  },
  produceTimeout: {
    type: 'duration',
    env: 'PARTQ_PRODUCE_TIMEOUT',
    default: '10s',
    min: 1,
    description: 'How long a produce may wait for a partition owner (retries included) before it fails',
  },
  stickyPartitionBytes: {
    type: 'integer',
    env: 'PARTQ_GATEWAY_STICKY_PARTITION_BYTES',
    default: 16 * 1024,
    min: 0,
    description:
      'Bytes of messages without partition, key or sequence (REST) that go to one partition of a topic before the next takes over (0: the next after every append)',
  },
  heapGrowthPercent: heapGrowthOption,
  logLevel: {
    type: 'string',
    env: 'PARTQ_LOG_LEVEL',
    default: 'info',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    description: 'Log level',
  },
  adminToken: {
    type: 'string',
    env: 'PARTQ_ADMIN_TOKEN',
    description: 'Bearer token of the admin API (/admin/*, AdminService); unset: the admin API is off',
  },
  instanceId: {
    type: 'string',
    env: 'PARTQ_GATEWAY_ID',
    description: 'Name of this gateway in logs and in the manager\'s watcher list (default: gateway-<pid>)',
  },
});

/** Everything startGateway needs, with the derived limits resolved. */
export interface GatewayConfig {
  host: string;
  port: number;
  managerUrl: string;
  maxMessageBytes: number;
  /** Largest body of every REST route but produce. */
  bodyLimit: number;
  /** Largest body of POST /producer/produce and of any Connect call. */
  batchBodyLimit: number;
  produceTimeoutMs: number;
  /** Bytes of messages that nothing places (REST) that go to one partition before the next takes over. */
  stickyPartitionBytes: number;
  logLevel: Config<typeof gatewayConfigSpec>['logLevel'];
  /** V8's heap growth past the last full GC, in % (see heapGrowthOption); applied by main. */
  heapGrowthPercent: number;
  instanceId: string;
  /** Bearer token of the admin API; undefined turns the admin API off. */
  adminToken?: string;
}

/** Reads flags (--port 8081), environment variables and defaults. */
export function loadGatewayConfig(options: LoadConfigOptions = {}): GatewayConfig {
  return resolveGatewayConfig(loadConfig(gatewayConfigSpec, { programName: 'partq-gateway', ...options }));
}

export function resolveGatewayConfig(raw: Config<typeof gatewayConfigSpec>): GatewayConfig {
  const bodyLimit = raw.bodyLimit ?? raw.maxMessageBytes * 2 + JSON_OVERHEAD_BYTES;
  return {
    host: raw.host,
    port: raw.port,
    managerUrl: raw.managerUrl,
    maxMessageBytes: raw.maxMessageBytes,
    bodyLimit,
    batchBodyLimit: Math.max(raw.batchBodyLimit ?? DEFAULT_BATCH_BODY_LIMIT_BYTES, bodyLimit),
    produceTimeoutMs: raw.produceTimeout,
    stickyPartitionBytes: raw.stickyPartitionBytes,
    logLevel: raw.logLevel,
    heapGrowthPercent: raw.heapGrowthPercent,
    instanceId: raw.instanceId ?? `gateway-${process.pid}`,
    adminToken: raw.adminToken,
  };
}

/** A config for tests and embedding: defaults for everything not given. */
export function gatewayConfig(overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  const base = loadGatewayConfig({ argv: [], env: {} });
  const merged = { ...base, ...overrides };
  if (overrides.bodyLimit === undefined && overrides.maxMessageBytes !== undefined) {
    merged.bodyLimit = overrides.maxMessageBytes * 2 + JSON_OVERHEAD_BYTES;
  }
  if (overrides.batchBodyLimit === undefined) merged.batchBodyLimit = Math.max(DEFAULT_BATCH_BODY_LIMIT_BYTES, merged.bodyLimit);
  return merged;
}
