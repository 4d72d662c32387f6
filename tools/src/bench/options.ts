import { defineConfig, type Config } from '@partq/runtime';
import { BenchError } from './bench-error.js';

/** Every flag of `npm run bench -- ...` (also readable from the environment where it says so). */
export const benchSpec = defineConfig({
  url: { type: 'url', env: 'PARTQ_BENCH_URL', description: 'Measure a running gateway instead of starting a local cluster' },
  clusterFile: {
    type: 'string',
    description: "With --url: the cluster.json that `npm start` writes (.partq/cluster.json), to measure the roles' CPU and memory",
  },
  databaseUrl: {
    type: 'string',
    env: 'DATABASE_URL',
    description:
      'PostgreSQL for the local cluster (a fresh database is made and dropped); default: embedded. With --url: where the hop floor commits its positions (its line says skipped without one)',
  },
  brokers: { type: 'integer', default: 3, min: 1, max: 16, description: 'Brokers of the local cluster' },
  replicas: { type: 'integer', default: 1, min: 1, max: 8, description: 'Replicas of the local cluster' },
  partitions: { type: 'integer', default: 3, min: 1, max: 1000, description: 'Partitions of every benchmark topic' },
  sizes: { type: 'list', default: ['100', '1024'], description: 'Message sizes in bytes' },
  acks: { type: 'list', default: ['broker', 'all'], choices: ['broker', 'all'], description: 'Acknowledgement modes of the client produce runs' },
  duration: { type: 'duration', default: '4s', min: 100, description: 'Length of each throughput measurement' },
  window: { type: 'integer', default: 10_000, min: 1, description: 'Pipelined produce: messages sent but not yet acknowledged, at most' },
  httpConnections: {
    type: 'list',
    default: ['16', '256'],
    description: 'REST runs: concurrent keep-alive HTTP clients (one request each at a time); one REST and one bare Fastify run per count',
  },
  consumeCount: { type: 'integer', default: 100_000, min: 1, description: 'Consume runs: messages in the backlog each consumer reads' },
  consumeBatches: { type: 'list', default: ['100', '500'], description: "Consume runs: the consumer's maxMessages per delivery, one run each (500: its default, and the replica's cap)" },
  e2eRate: { type: 'integer', default: 2000, min: 1, description: 'End-to-end latency run: messages per second' },
  e2eDuration: { type: 'duration', default: '5s', min: 100, description: 'End-to-end latency run: how long messages are sent' },
  e2eSize: { type: 'integer', default: 100, min: 8, description: 'End-to-end latency run: message size in bytes' },
  e2eLinger: { type: 'duration', default: 0, max: 1000, description: "End-to-end latency run: the producer's lingerMs (0: every send() leaves at once)" },
  e2eWarmup: {
    type: 'duration',
    default: '5s',
    max: 60_000,
    description: 'End-to-end latency run: how long the same clients first send at the same rate, unmeasured, on a topic of their own (0: no warm-up)',
  },
  produceWarmup: {
    type: 'duration',
    default: '5s',
    max: 60_000,
    description:
      "Client produce runs: how long pipelined acks=broker load runs, on a topic of its own, before each size's produce lines; its own line (warm-up.…) shows the cold cluster's rate (0: no warm-up beyond each line's own 500 ms)",
  },
  restWarmup: {
    type: 'duration',
    default: '5s',
    max: 60_000,
    description: 'REST runs: how long the REST load runs against partq and against bare Fastify, unmeasured, before their first lines (0: no warm-up beyond each line\'s own 500 ms)',
  },
  mem: { type: 'boolean', default: false, description: 'Also run the long broker-memory test: --mem-bytes of 1 KiB messages flow through' },
  moves: {
    type: 'boolean',
    default: false,
    description: "Also measure producers' wait while partitions move: keyed batches while the last broker is drained, resumed and the cluster rebalanced (~8 s; needs two brokers, and --cluster-file with --url)",
  },
  memBytes: { type: 'integer', default: 1024 ** 3, min: 1024, description: 'Payload bytes of the --mem test' },
  reference: {
    type: 'boolean',
    default: true,
    description:
      'Also measure yardsticks on this machine: NATS JetStream publishing (skipped lines when no NATS answers), and the hop floor under the end-to-end run',
  },
  natsUrl: { type: 'url', default: 'nats://127.0.0.1:4222', env: 'PARTQ_BENCH_NATS_URL', description: 'The NATS server (JetStream enabled) of the reference runs' },
  only: { type: 'list', default: [], description: 'Run only measurements whose name starts with one of these (e.g. produce.client.pipelined)' },
  quick: { type: 'boolean', default: false, description: 'A few seconds in all: tiny counts and durations (smoke test; the numbers mean nothing)' },
  profile: { type: 'boolean', default: false, description: 'Write a CPU profile of every role to <out-dir>/profiles/<run>/ and summarise it' },
  outDir: { type: 'string', default: 'bench-results', description: 'Where results, the latency SVG and profiles go' },
  keepData: { type: 'boolean', default: false, description: "Keep the local cluster's data directory (WALs, logs) after the run" },
});

export type BenchConfig = Config<typeof benchSpec>;

/** The resolved settings of one run. */
export interface BenchOptions {
  url: string | undefined;
  clusterFile: string | undefined;
  databaseUrl: string | undefined;
  brokers: number;
  replicas: number;
  partitions: number;
  sizes: number[];
  acks: ('broker' | 'all')[];
  durationMs: number;
  window: number;
  httpConnections: number[];
  consumeCount: number;
  consumeBatches: number[];
  e2eRate: number;
  e2eDurationMs: number;
  e2eSize: number;
  e2eLingerMs: number;
  e2eWarmupMs: number;
  produceWarmupMs: number;
  restWarmupMs: number;
  mem: boolean;
  moves: boolean;
  memBytes: number;
  reference: boolean;
  natsUrl: string;
  only: string[];
  quick: boolean;
  profile: boolean;
  outDir: string;
  keepData: boolean;
}

/** Sockets the load generator opens at most, per run. */
const MAX_HTTP_CONNECTIONS = 1024;

function positiveIntegers(values: readonly string[], what: string): number[] {
  return values.map((value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new BenchError('INVALID_OPTIONS', `${what} must be positive integers, got "${value}"`);
    return n;
  });
}

/** Turns flags into settings; --quick shrinks every count and duration. */
export function resolveBenchOptions(config: BenchConfig): BenchOptions {
  const options: BenchOptions = {
    url: config.url,
    clusterFile: config.clusterFile,
    databaseUrl: config.databaseUrl,
    brokers: config.brokers,
    replicas: config.replicas,
    partitions: config.partitions,
    sizes: positiveIntegers(config.sizes, '--sizes'),
    acks: config.acks,
    durationMs: config.duration,
    window: config.window,
    httpConnections: positiveIntegers(config.httpConnections, '--http-connections'),
    consumeCount: config.consumeCount,
    consumeBatches: positiveIntegers(config.consumeBatches, '--consume-batches'),
    e2eRate: config.e2eRate,
    e2eDurationMs: config.e2eDuration,
    e2eSize: config.e2eSize,
    e2eLingerMs: config.e2eLinger,
    e2eWarmupMs: config.e2eWarmup,
    produceWarmupMs: config.produceWarmup,
    restWarmupMs: config.restWarmup,
    mem: config.mem,
    moves: config.moves,
    memBytes: config.memBytes,
    reference: config.reference,
    natsUrl: config.natsUrl,
    only: config.only,
    quick: config.quick,
    profile: config.profile,
    outDir: config.outDir,
    keepData: config.keepData,
  };
  if (options.httpConnections.some((connections) => connections > MAX_HTTP_CONNECTIONS)) {
    throw new BenchError('INVALID_OPTIONS', `--http-connections must be at most ${MAX_HTTP_CONNECTIONS} each`);
  }
  if (options.clusterFile && !options.url) throw new BenchError('INVALID_OPTIONS', '--cluster-file goes with --url');
  if (options.quick) {
    options.durationMs = Math.min(options.durationMs, 300);
    options.window = Math.min(options.window, 1000);
    options.httpConnections = [...new Set(options.httpConnections.map((connections) => Math.min(connections, 4)))];
    options.consumeCount = Math.min(options.consumeCount, 300);
    options.e2eRate = Math.min(options.e2eRate, 200);
    options.e2eDurationMs = Math.min(options.e2eDurationMs, 500);
    options.e2eWarmupMs = Math.min(options.e2eWarmupMs, 200);
    options.restWarmupMs = Math.min(options.restWarmupMs, 200);
    options.produceWarmupMs = Math.min(options.produceWarmupMs, 200);
    options.memBytes = Math.min(options.memBytes, 1024 * 1024);
  }
  return options;
}

/** Whether `--only` lets the measurement called `name` run. */
export function selected(options: BenchOptions, name: string): boolean {
  return options.only.length === 0 || options.only.some((prefix) => name.startsWith(prefix));
}
