import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeDeliveries, totalOf, type AckedMessage, type DeliveredMessage } from '../../src/oracle/delivery-oracle.js';
import { getJson, postJson, resilientCall, type RestRequest } from './resilient-rest.js';

export interface Workload {
  subscriptions: Map<string, string[]>; // consumer name -> topics
  acked: AckedMessage[];
  delivered: DeliveredMessage[];
  /** Client retries the fault caused (failed calls retried with the same token). */
  retries: number;
  /** Every acknowledgement and consume answer as it came, for a post-mortem (see judgeAndReport). */
  timeline: string[];
}

export interface WorkloadOptions {
  /** Topic names are prefixed with it, so runs in one cluster do not mix. */
  scenario: string;
  /** Struck once a third of the messages are acknowledged; the run goes on until it returns. */
  fault: () => Promise<void>;
  messagesPerProducer?: number;
  acks?: 'broker' | 'all';
}

/**
 * The course's 5-producer / 3-consumer workload over REST, as careful clients run it: producers
 * retry with the same sequence, consumers with the same request id, until a deadline.
 */
export async function runCourseWorkload(gatewayUrl: string, options: WorkloadOptions): Promise<Workload> {
  const { scenario, fault } = options;
  const MESSAGES_PER_PRODUCER = options.messagesPerProducer ?? 60;
  const base = gatewayUrl;
  // Stops every loop once one part of the run fails, so none outlives the test that started it:
  // each call throws once it is aborted, its request in flight included.
  const stop = new AbortController();
  const call = (request: RestRequest) =>
    resilientCall(request, {
      deadlineMs: 60_000,
      signal: stop.signal,
      onRetry: () => {
        retries++;
      },
    });
  let retries = 0;
  const topic = (t: string) => `${scenario}-${t}`;
  const publishers: Record<string, string[]> = { T1: ['P1', 'P2', 'P3'], T2: ['P1', 'P4', 'P5'], T3: ['P1', 'P2'] };
  const subscribers: Record<string, string[]> = { T1: ['C1', 'C2', 'C3'], T2: ['C1'], T3: ['C1', 'C2', 'C3'] };

  for (const t of Object.keys(publishers)) {
    const created = await call(postJson(base, '/topics', { topic_name: topic(t), partitions: 3 }));
    expect(created.status).toBe(201);
  }
  const subscriptions = new Map<string, string[]>();
  const consumers: { name: string; topic: string; id: number }[] = [];
  for (const [t, names] of Object.entries(subscribers)) {
    for (const name of names) {
      const answer = await call(postJson(base, '/consumer/register', { topic: topic(t) }));
      consumers.push({ name: `${name}@${t}`, topic: topic(t), id: answer.body.consumer_id as number });
      subscriptions.set(`${name}@${t}`, [topic(t)]);
    }
  }
  const producers: { name: string; topic: string; id: number }[] = [];
  for (const [t, names] of Object.entries(publishers)) {
    for (const name of names) {
      const answer = await call(postJson(base, '/producer/register', { topic: topic(t) }));
      producers.push({ name, topic: topic(t), id: answer.body.producer_id as number });
    }
  }

  const acked: AckedMessage[] = [];
  const delivered: DeliveredMessage[] = [];
  const timeline: string[] = [];
  let producing = true;
  let faultDone = false;

  const produce = async (p: { name: string; topic: string; id: number }): Promise<void> => {
    for (let seq = 0; seq < MESSAGES_PER_PRODUCER; seq++) {
      // The same sequence on every retry: a retry after a lost answer lands once.
      const answer = await call(postJson(base, '/producer/produce', { topic: p.topic, producer_id: p.id, message: `${p.name}:${seq}`, sequence: seq, acks: options.acks ?? 'broker' }));
      expect(answer.body).toMatchObject({ status: 'success' });
      timeline.push(`${Date.now()} ${p.name}@${p.topic} acked ${p.name}:${seq} at partition ${answer.body.partition_id} offset ${answer.body.offset}`);
      acked.push({
        topic: p.topic,
        producer: p.name,
        sequence: seq,
        partition: answer.body.partition_id as number,
        offset: answer.body.offset as number,
        acks: options.acks ?? 'broker',
        ackedAt: Date.now(),
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  const consume = async (c: { name: string; topic: string; id: number }): Promise<void> => {
    let requestNumber = 0;
    let emptyAfterDone = 0;
    while (emptyAfterDone < 5) {
      // The same request id on every retry: a lost answer is given again, not skipped.
      const requestId = `${c.name}-${requestNumber}`;
      const answer = await call(getJson(base, '/consumer/consume', { topic: c.topic, consumer_id: c.id, request_id: requestId }));
      const got = answer.body.status === 'success' ? `${answer.body.message} at partition ${answer.body.partition_id} offset ${answer.body.offset}` : answer.body.code;
      timeline.push(`${Date.now()} ${c.name} ${requestId}: ${got}`);
      if (answer.body.status === 'success') {
        requestNumber++;
        const [producer, sequence] = String(answer.body.message).split(':');
        delivered.push({
          consumer: c.name,
          topic: c.topic,
          producer: producer!,
          sequence: Number(sequence),
          partition: answer.body.partition_id as number,
          offset: answer.body.offset as number,
        });
        continue;
      }
      expect(answer.body.code).toBe('EMPTY');
      if (!producing && faultDone) emptyAfterDone++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const stopOnFailure = <T>(loop: Promise<T>): Promise<T> =>
    loop.catch((error: unknown) => {
      stop.abort(error);
      throw error;
    });
  const consuming = stopOnFailure(Promise.all(consumers.map(consume)));
  const producingDone = stopOnFailure(Promise.all(producers.map(produce))).then(() => {
    producing = false;
  });
  try {
    // Strike once the run is well under way.
    while (acked.length < (producers.length * MESSAGES_PER_PRODUCER) / 3) {
      stop.signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await fault();
    faultDone = true;
    await producingDone;
    await consuming;
  } catch (error) {
    stop.abort(error);
    await Promise.allSettled([producingDone, consuming]);
    throw error;
  }
  return { subscriptions, acked, delivered, retries, timeline };
}

/** What the fault tests assert on: the oracle's counts summed over every consumer. */
export interface OracleReport {
  acked: number;
  delivered: number;
  /** Acknowledged and never received, whatever the reason (a lost broker's included). */
  lost: number;
  duplicated: number;
  /** Read out of offset order, or a producer's messages out of the order it sent them. */
  outOfOrder: number;
  /** Up to 5 per kind of what broke the contract. */
  examples: string[];
}

/** How strict a judge is. */
export interface JudgeOptions {
  /**
   * Whether an acks=broker message lost with a broker declared dead is allowed, as the durability
   * contract allows it: counted in `lost`, not among `examples`. Default false: every loss is a fault.
   */
  lossWithBrokerAllowed?: boolean;
}

/**
 * The fault tests' judge (the soak's oracle, tools/src/oracle/): every acknowledged message reaches
 * every consumer of its topic once, in offset order, and in each producer's order (the course
 * workload's producers send one message at a time). A message lost with its broker counts as lost.
 */
export function judgeWorkload(
  acked: readonly AckedMessage[],
  delivered: readonly DeliveredMessage[],
  subscriptions: ReadonlyMap<string, readonly string[]>,
  options: JudgeOptions = {},
): OracleReport {
  const verdict = judgeDeliveries(acked, delivered, {
    consumers: subscriptions,
    isOrdered: () => true,
    lossWithBrokerAllowed: options.lossWithBrokerAllowed ?? false,
  });
  const total = totalOf(verdict);
  return {
    acked: verdict.acked,
    delivered: total.delivered,
    lost: total.skipped + total.lostWithBroker + total.lostAcksAll,
    duplicated: total.duplicated,
    outOfOrder: total.outOfOrder + total.reordered,
    examples: verdict.violations,
  };
}

/**
 * Runs the oracle and prints its counts (the fault tests' record of what happened). When it finds
 * a fault, the workload's timeline goes to a file named in the output: which message each consumer
 * got at an offset tells a skip from a record that another one replaced. A loss `options` allows
 * is no fault, and writes no file.
 */
export function judgeAndReport(name: string, workload: Workload, options: JudgeOptions = {}): OracleReport {
  const report = judgeWorkload(workload.acked, workload.delivered, workload.subscriptions, options);
  let timeline = '';
  if (report.examples.length > 0) {
    const file = join(tmpdir(), `partq-workload-${name}-${Date.now()}.log`);
    writeFileSync(file, [...report.examples, '', ...workload.timeline].join('\n'));
    timeline = ` timeline=${file}`;
  }
  process.stdout.write(
    `fault scenario ${name}: acked=${report.acked} delivered=${report.delivered} lost=${report.lost} ` +
      `duplicated=${report.duplicated} outOfOrder=${report.outOfOrder} clientRetries=${workload.retries}${timeline}\n`,
  );
  return report;
}
