import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@partq/runtime';
import { startLocalTarget } from '../bench/bench-target.js';
import { strikeFaults, type StruckFault } from './fault-schedule.js';
import { seededRandom } from './seeded-random.js';
import { judgeDeliveries, type DeliveredMessage, type DeliveryVerdict } from '../oracle/delivery-oracle.js';
import type { SoakOptions } from './soak-options.js';
import { SOAK_CONSUMERS, SOAK_ORDERED_PRODUCERS, SoakWorkload } from './soak-workload.js';

export interface SoakReport extends DeliveryVerdict {
  seed: number;
  durationMs: number;
  failedSends: number;
  /** The failed sends by producer and code. */
  sendFailures: Record<string, number>;
  faults: { stops: number; kills: number };
}

const PROGRESS_EVERY_MS = 10_000;

/**
 * Starts a whole cluster (the launcher restarts what dies), runs the soak workload, strikes faults
 * for the duration, lets the consumers catch up until they stay quiet, and judges the outcome.
 */
export async function runSoak(options: SoakOptions, say: (message: string) => void): Promise<SoakReport> {
  const seed = options.seed || Date.now() % 2 ** 31;
  say(`seed ${seed}: repeat the fault schedule with --seed ${seed}`);
  const target = await startLocalTarget({
    brokers: options.brokers,
    replicas: options.replicas,
    gateways: options.gateways,
    databaseUrl: options.databaseUrl,
    keepData: options.keepData,
    profileDir: undefined,
    restart: true,
    roleEnv: { PARTQ_BROKER_TIMEOUT: `${options.brokerTimeout}ms`, PARTQ_LOG_LEVEL: options.roleLogLevel },
    say,
  });
  try {
    const workload = new SoakWorkload({ gatewayUrls: target.gatewayUrls, topic: `soak-${seed}`, partitions: options.partitions, rate: options.rate, say });
    await workload.start();
    const progress = setInterval(
      () => say(`acknowledged ${workload.acked.length}, delivered ${workload.delivered.length}, failed sends ${workload.failedSends}`),
      PROGRESS_EVERY_MS,
    );
    let faults: StruckFault[];
    let retained: DeliveredMessage[];
    try {
      faults = await strikeFaults({
        durationMs: options.duration,
        meanGapMs: options.faultEvery,
        brokerTimeoutMs: options.brokerTimeout,
        random: seededRandom(seed),
        processes: () => target.processes(),
        say,
      });
      say('faults over; waiting for the last sends and deliveries');
      await workload.stopProducing();
      while (workload.quietForMs < options.quiet) await sleep(500);
      await workload.stopConsumers();
      say('reading what the log still holds');
      retained = await workload.readRetainedLog(options.quiet);
    } finally {
      clearInterval(progress);
    }
    const verdict = judgeDeliveries(workload.acked, workload.delivered, {
      consumers: new Map(SOAK_CONSUMERS.map((consumer) => [consumer, undefined])),
      isOrdered: (producer) => SOAK_ORDERED_PRODUCERS.includes(producer),
      retainedAtEnd: retained,
    });
    if (options.keepData && target.dataDir) {
      // What the oracle judged, beside the roles' logs, to trace a violation to its messages.
      const record = join(target.dataDir, 'soak-record.json');
      writeFileSync(record, JSON.stringify({ acked: workload.acked, delivered: workload.delivered, retained }));
      say(`acknowledgements and deliveries kept in ${record}`);
    }
    return {
      seed,
      durationMs: options.duration,
      failedSends: workload.failedSends,
      sendFailures: workload.sendFailures,
      faults: { stops: faults.filter((f) => f.kind === 'stop').length, kills: faults.filter((f) => f.kind === 'kill').length },
      ...verdict,
    };
  } finally {
    await target.stop();
  }
}
