import { cpus } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { errorText, sizeLabel, type BenchContext } from './bench-context.js';
import { attachTarget, startLocalTarget, type BenchTarget } from './bench-target.js';
import { startBareFastify, type BareFastify } from './bare-fastify.js';
import { brokerMemoryName, measureBrokerMemory, wholeRunMemory } from './broker-memory.js';
import { CLUSTER_IDLE_NAME, measureClusterIdle } from './cluster-idle.js';
import { consumeName, measureConsume } from './consume.js';
import { CpuMeter } from './cpu-meter.js';
import { e2eLatencyName, measureE2eLatency } from './e2e-latency.js';
import { measurePartitionMoves, PARTITION_MOVES_NAME } from './partition-moves.js';
import { hopFloorName, measureHopFloor } from './hop-floor/hop-floor.js';
import { buildMeasurement, type MeasuredResult, type MeasurementKind } from './measurement.js';
import { measureNatsReference, natsReferenceCases, natsReferenceName } from './nats-reference.js';
import { selected, type BenchOptions } from './options.js';
import { clientProduceName, measureClientProduce, measureProduceWarmUp, produceWarmUpName, type ClientProduceCase } from './produce-client.js';
import { bareFastifyName, measureBareFastify, measureRestProduce, restProduceName, warmUpRestLoads } from './produce-rest.js';
import { summariseProfiles } from './profile-summary.js';
import { summaryTable, writeReport, type RunReport } from './report.js';
import { RssSampler } from './rss-sampler.js';
import { checkTargets } from './targets.js';

export interface BenchIo {
  /** One JSON line per measurement, then the summary table (stdout). */
  out(text: string): void;
  /** Progress for humans (stderr). */
  say(message: string): void;
}

export interface BenchRun {
  report: RunReport;
  results: MeasuredResult[];
  /** Files written under --out-dir. */
  files: string[];
}

/** A URL as it may be written to a report: user and password left out. */
function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

function runId(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * The whole benchmark: sets up the target, runs every selected measurement in turn (printing a
 * JSON line as each finishes), stops the target, checks the targets and writes the report.
 */
export async function runBench(options: BenchOptions, io: BenchIo): Promise<BenchRun> {
  const started = new Date();
  const runDir = join(options.outDir, runId(started));
  const profileDir = options.profile ? join(runDir, 'profiles') : undefined;

  io.say(options.url ? `measuring the gateway at ${options.url}` : 'starting a local cluster on free ports');
  const target: BenchTarget = options.url
    ? attachTarget(options.url, options.clusterFile, options.databaseUrl)
    : await startLocalTarget({
        brokers: options.brokers,
        replicas: options.replicas,
        databaseUrl: options.databaseUrl,
        keepData: options.keepData,
        profileDir,
        roleEnv: {},
        say: (message) => io.say(`  ${message}`),
      });

  const cpu = new CpuMeter(target.processes, target.postgresAncestor);
  let topics = 0;
  const context: BenchContext = {
    options,
    target,
    cpu,
    cpuVisible: cpu.available && target.processes().length > 0,
    say: io.say,
    topic: (label) => `bench-${runId(started).replace('-', '')}-${++topics}-${label}`,
    producedBytes: 0,
  };
  const results: MeasuredResult[] = [];
  const emit = (result: MeasuredResult): void => {
    results.push(result);
    io.out(`${JSON.stringify(result.measurement)}\n`);
  };
  /** Runs one measurement if --only selects it; a failure becomes a line with the error, not the end of the run. */
  const run = async (
    name: string,
    kind: MeasurementKind,
    measure: () => Promise<MeasuredResult | MeasuredResult[]>,
    { always = false } = {},
  ): Promise<void> => {
    if (!always && !selected(options, name)) return;
    io.say(`${name} ...`);
    try {
      const measured = await measure();
      for (const result of Array.isArray(measured) ? measured : [measured]) emit(result);
    } catch (error) {
      emit(buildMeasurement({ name, kind, msgs: 0, seconds: 0, cpuVisible: false, errors: 1, firstError: errorText(error) }));
    }
  };

  const rss = new RssSampler(target.processes, 'broker');
  rss.start();
  let bare: BareFastify | undefined;
  try {
    await run(CLUSTER_IDLE_NAME, 'idle', () => measureClusterIdle(context));
    for (const size of options.sizes) {
      const cases: ClientProduceCase[] = [];
      for (const mode of ['pipelined', 'one-at-a-time'] as const) for (const acks of options.acks) cases.push({ size, acks, mode });
      const warmUp = options.produceWarmupMs > 0 && cases.some((c) => selected(options, clientProduceName(c)));
      if (warmUp) await run(produceWarmUpName(size), 'warm-up', () => measureProduceWarmUp(context, size), { always: true });
      for (const c of cases) await run(clientProduceName(c), 'produce', () => measureClientProduce(context, c));
    }
    const references = natsReferenceCases(options.sizes).filter((c) => selected(options, natsReferenceName(c)));
    if (options.reference && references.length > 0) {
      await run(natsReferenceName(references[0]!), 'reference', () => measureNatsReference(context, references));
    }

    // Each concurrency twice, against the same load: a bare Fastify route, then partq's REST produce.
    const restLines = options.sizes.flatMap((size) => options.httpConnections.map((connections) => ({ size, connections })));
    const restSelected = restLines.some(({ size, connections }) => selected(options, restProduceName(size, connections)));
    const bareSelected = restSelected || restLines.some(({ size, connections }) => selected(options, bareFastifyName(size, connections)));
    if (bareSelected && options.restWarmupMs > 0) {
      bare ??= await startBareFastify();
      const first = restLines[0]!;
      io.say(`REST warm-up (${options.restWarmupMs} ms against bare Fastify and partq, unmeasured) ...`);
      await warmUpRestLoads(context, bare, first.size, first.connections, restSelected);
    }
    for (const size of options.sizes) {
      for (const connections of options.httpConnections) {
        let bareRate: number | undefined;
        if (selected(options, bareFastifyName(size, connections)) || selected(options, restProduceName(size, connections))) {
          bare ??= await startBareFastify();
          const server = bare;
          await run(bareFastifyName(size, connections), 'http-baseline', async () => {
            const result = await measureBareFastify(context, server, size, connections);
            bareRate = result.measurement.msgs_per_s;
            return result;
          });
        }
        await run(restProduceName(size, connections), 'produce', () => measureRestProduce(context, size, connections, bareRate));
      }
    }
    await bare?.stop();
    bare = undefined;

    for (const size of options.sizes) {
      const batches = options.consumeBatches.filter((batch) => selected(options, consumeName(size, batch)));
      if (batches.length > 0) await run(consumeName(size, batches[0]!), 'consume', () => measureConsume(context, size, batches));
    }

    await run(e2eLatencyName(options.e2eSize, options.e2eRate), 'e2e-latency', () => measureE2eLatency(context));
    if (options.reference) await run(hopFloorName(options.e2eSize, options.e2eRate), 'reference', () => measureHopFloor(context));
    if (options.moves) await run(PARTITION_MOVES_NAME, 'moves', () => measurePartitionMoves(context));
    if (options.mem) await run(brokerMemoryName(options.memBytes), 'broker-rss', () => measureBrokerMemory(context));
    if (selected(options, 'broker-rss.whole-run')) emit(wholeRunMemory(context, rss.stop(), (Date.now() - started.getTime()) / 1000));
  } finally {
    rss.stop();
    await bare?.stop();
    io.say('stopping the cluster');
    await target.stop();
  }

  const files: string[] = [];
  if (profileDir) {
    const summary = summariseProfiles(profileDir);
    const summaryFile = join(profileDir, 'summary.txt');
    writeFileSync(summaryFile, summary);
    files.push(summaryFile);
    io.say(`CPU profiles in ${profileDir} (summary: ${summaryFile})`);
  }
  const report: RunReport = {
    startedAt: started.toISOString(),
    target: target.description,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform },
    options: {
      ...options,
      databaseUrl: options.databaseUrl ? '(set)' : undefined,
      natsUrl: withoutCredentials(options.natsUrl),
      sizes: options.sizes.map(sizeLabel),
    },
    measurements: results.map((r) => r.measurement),
    targets: checkTargets(
      results.map((r) => r.measurement),
      options.sizes,
    ),
  };
  files.unshift(...writeReport(runDir, report, results));
  io.out(`\n${summaryTable(report)}`);
  io.say(`results in ${runDir}/`);
  return { report, results, files };
}
