import { Producer } from '@partq/producer';
import { sleep } from '@partq/runtime';
import { errorText, payloadOf, withCpu, type BenchContext } from './bench-context.js';
import { BenchError } from './bench-error.js';
import { LatencyRecorder } from './latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';

/** Keyed messages a batch, and batches a second: every batch has a message for most partitions. */
const BATCH_MESSAGES = 6;
const BATCHES_PER_SECOND = 100;
const PARTITIONS = 6;
const SIZE = 100;

export const PARTITION_MOVES_NAME = `moves.drain-resume-rebalance.keyed-${BATCH_MESSAGES * BATCHES_PER_SECOND}-per-s`;

/** What the line waits between its steps, in ms (shrunk by --quick). */
export interface MoveSteps {
  before: number;
  drained: number;
  resumed: number;
  after: number;
}

const STEPS: MoveSteps = { before: 2000, drained: 2000, resumed: 1000, after: 2000 };
const QUICK_STEPS: MoveSteps = { before: 300, drained: 300, resumed: 200, after: 300 };

/**
 * How long producers wait while partitions move (`--moves`): keyed batches flow to a topic of its
 * own while the last broker is drained through the admin API, resumed, and the cluster's partitions
 * rebalanced. Every partition it owned, of every topic, moves away, and the rebalance brings it its
 * share back; each move fences the owner, commits what it holds and hands it over, and a batch with
 * a message for a moving partition waits for that. Latency is per batch, from send() to its acknowledgement; the admin calls' own times are
 * in the line. Needs the admin token: a local cluster's, or the cluster file's with --url.
 */
export async function measurePartitionMoves(context: BenchContext): Promise<MeasuredResult> {
  const { target } = context;
  const token = target.adminToken;
  if (token === undefined) throw new BenchError('INVALID_OPTIONS', 'the moves line needs the admin token: give --cluster-file with --url');
  const admin = adminClient(target.gatewayUrl, token);
  const brokers = (await admin('GET', '/admin/brokers'))['brokers'] as { broker_id: number; state: string }[];
  const alive = brokers.filter((b) => b.state === 'alive').map((b) => b.broker_id);
  if (alive.length < 2) throw new BenchError('INVALID_OPTIONS', `the moves line needs two alive brokers, found ${alive.length}`);
  const drained = Math.max(...alive);
  const steps = context.options.quick ? QUICK_STEPS : STEPS;

  const topic = context.topic('moves');
  const producer = new Producer({ urls: target.gatewayUrls });
  try {
    await producer.createTopic(topic, { partitions: PARTITIONS });
    const latency = new LatencyRecorder();
    const payload = payloadOf(SIZE);
    let sent = 0;
    let errors = 0;
    let firstError: string | undefined;
    let sending = true;
    const inFlight = new Set<Promise<void>>();
    const send = async (): Promise<void> => {
      const batch = Array.from({ length: BATCH_MESSAGES }, () => ({ key: `key-${sent++ % 60}`, value: payload }));
      const started = performance.now();
      try {
        await producer.send(topic, batch);
        latency.record(performance.now() - started);
      } catch (error) {
        errors++;
        firstError ??= errorText(error);
      }
    };
    const load = (async () => {
      // A fixed rate: the next batch goes at its time whether or not the last one was answered.
      const interval = 1000 / BATCHES_PER_SECOND;
      const start = performance.now();
      for (let i = 0; sending; i++) {
        const batch = send();
        inFlight.add(batch);
        void batch.finally(() => inFlight.delete(batch));
        await sleep(Math.max(0, start + (i + 1) * interval - performance.now()));
      }
    })();

    const calls: Record<string, number> = {};
    let moved = 0;
    const timed = async (step: string, path: string): Promise<Record<string, unknown>> => {
      const started = performance.now();
      const answer = await admin('POST', path);
      calls[`${step}_ms`] = Math.round(performance.now() - started);
      return answer;
    };
    const started = performance.now();
    let resumed = false;
    const { cpu } = await withCpu(context, async () => {
      try {
        await sleep(steps.before);
        moved += movesOf(await timed('drain', `/admin/brokers/${drained}/drain`));
        await sleep(steps.drained);
        await timed('resume', `/admin/brokers/${drained}/resume`);
        resumed = true;
        await sleep(steps.resumed);
        moved += movesOf(await timed('rebalance', '/admin/rebalance'));
        await sleep(steps.after);
      } finally {
        sending = false;
        await load;
        await Promise.all(inFlight);
        // A line that failed midway leaves no broker of the cluster draining (a drain marks it first).
        if (!resumed) await admin('POST', `/admin/brokers/${drained}/resume`).catch(() => undefined);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    return buildMeasurement({
      name: PARTITION_MOVES_NAME,
      kind: 'moves',
      via: 'client',
      mode: 'fixed-rate',
      msgBytes: SIZE,
      acks: 'broker',
      msgs: latency.count * BATCH_MESSAGES,
      seconds,
      latency,
      cpu,
      cpuVisible: context.cpuVisible,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      extra: {
        latency_per: 'batch',
        batch_messages: BATCH_MESSAGES,
        drained_broker: drained,
        partitions_moved: moved,
        batches_over_200_ms: latency.countAbove(200),
        ...calls,
      },
    });
  } finally {
    await producer.close();
  }
}

type AdminCall = (method: 'GET' | 'POST', path: string) => Promise<Record<string, unknown>>;

/** The gateway's admin API with the bearer token; an answer other than 200 is an error with its body. */
function adminClient(gatewayUrl: string, token: string): AdminCall {
  return async (method, path) => {
    const response = await fetch(`${gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) throw new BenchError('SETUP_FAILED', `${method} ${path} answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  };
}

/** Moves an admin answer reports done; one that failed fails the line (its partition stayed where it was). */
function movesOf(answer: Record<string, unknown>): number {
  const moves = (answer['moves'] ?? []) as { error?: string }[];
  const failed = moves.filter((m) => m.error !== undefined);
  if (failed.length > 0) throw new BenchError('SETUP_FAILED', `${failed.length} partition move(s) failed: ${failed[0]!.error}`);
  return moves.length;
}
