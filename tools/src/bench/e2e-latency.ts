import { ErrorTally } from './error-tally.js';
import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { LatencyRecorder } from './latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';

/** How long after the last send the consumer may still take to receive everything. */
const DRAIN_MS = 10_000;
/** The sender looks at the clock this often and sends what is due. */
const TICK_MS = 1;

export function e2eLatencyName(size: number, rate: number): string {
  return `e2e-latency.fixed-rate-${rate}-per-s.${sizeLabel(size)}`;
}

/**
 * End-to-end latency at a fixed rate: a producer sends --e2e-rate messages a second (acks=broker,
 * lingerMs --e2e-linger, 0 by default: latency matters here, not batching) while a consumer reads with messages()
 * (a server stream: each message is pushed as soon as it is appended). Each payload carries its index; latency
 * is the time from its send() call to its receipt, on one clock.
 *
 * The same clients first run --e2e-warmup at the same rate on a topic of their own, unmeasured: the
 * roles' and the clients' JIT is still compiling the delivery path at first. On a freshly started
 * cluster 5 s of it took p99 from 143-150 to 70-77 ms (docs/performance-log.md, eighth round).
 */
export async function measureE2eLatency(context: BenchContext): Promise<MeasuredResult> {
  const { options, target } = context;
  const { e2eRate: rate, e2eSize: size } = options;
  const total = Math.max(1, Math.round((rate * options.e2eDurationMs) / 1000));
  const producer = new Producer({ urls: [target.gatewayUrl], acks: 'broker', lingerMs: options.e2eLingerMs });
  const consumer = new Consumer({ urls: [target.gatewayUrl], maxMessages: 100 });
  const tally = new ErrorTally();
  /** A phase on a topic of its own, with the producer and the consumer registered to it. */
  const phaseOn = async (name: string, count: number): Promise<Phase> => {
    const topic = context.topic(name);
    await producer.createTopic(topic, { partitions: options.partitions });
    await producer.register(topic);
    await consumer.register(topic);
    return { producer, consumer, topic, size, rate, total: count };
  };
  try {
    const warmup = Math.round((rate * options.e2eWarmupMs) / 1000);
    if (warmup > 0) {
      // Its failures are not the measurement's: the measured phase reports its own.
      await runPhase(await phaseOn(`e2e-warmup-${sizeLabel(size)}`, warmup), new LatencyRecorder(), new LatencyRecorder(), new ErrorTally().record);
    }
    const latency = new LatencyRecorder();
    /** send() to acknowledgement: the producing part of the end-to-end time. */
    const acked = new LatencyRecorder();
    const phase = await phaseOn(`e2e-${sizeLabel(size)}`, total);
    const { result, cpu } = await withCpu(context, () => runPhase(phase, latency, acked, tally.record));
    context.producedBytes += total * size;
    return buildMeasurement({
      name: e2eLatencyName(size, rate),
      kind: 'e2e-latency',
      via: 'client',
      mode: 'fixed-rate',
      msgBytes: size,
      acks: 'broker',
      msgs: result.received,
      seconds: result.seconds,
      latency,
      cpu,
      cpuVisible: context.cpuVisible,
      ...tally.fields(),
      extra: { target_rate: rate, linger_ms: options.e2eLingerMs, warmup_msgs: warmup, ...ackFields(acked) },
    });
  } finally {
    await producer.close();
    await consumer.close();
  }
}

/** One run of messages at a fixed rate through the cluster, producer to consumer. */
interface Phase {
  producer: Producer;
  consumer: Consumer;
  topic: string;
  size: number;
  rate: number;
  total: number;
}

/** Sends `total` messages at the phase's rate and waits until the consumer has them all (or DRAIN_MS passed). */
async function runPhase(
  phase: Phase,
  latency: LatencyRecorder,
  acked: LatencyRecorder,
  failed: (error: unknown) => void,
): Promise<{ received: number; seconds: number }> {
  const { consumer, topic, total } = phase;
  const sentAt = new Float64Array(total);
  const stop = new AbortController();
  const started = performance.now();
  let received = 0;
  const receiving = (async () => {
    try {
      for await (const message of consumer.messages(topic, { signal: stop.signal })) {
        const index = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength).readUInt32BE(0);
        if (index < total && sentAt[index]! > 0) latency.record(performance.now() - sentAt[index]!);
        if (++received >= total) return;
      }
    } catch (error) {
      if (!stop.signal.aborted) failed(error);
    }
  })();
  await sendAtRate(phase, sentAt, acked, failed);
  const drain = setTimeout(() => stop.abort(), DRAIN_MS);
  await receiving;
  clearTimeout(drain);
  if (received < total) failed(new Error(`received ${received} of ${total} messages within ${DRAIN_MS} ms of the last send`));
  return { received, seconds: (performance.now() - started) / 1000 };
}

/** Sends message i when it is due (i / rate seconds after the start), each its own send() call. */
async function sendAtRate({ producer, topic, size, rate, total }: Phase, sentAt: Float64Array, acked: LatencyRecorder, failed: (error: unknown) => void): Promise<void> {
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const payload = Buffer.alloc(size, 'x');
      payload.writeUInt32BE(sent, 0);
      const at = performance.now();
      sentAt[sent] = at;
      sends.push(producer.send(topic, payload).then(() => acked.record(performance.now() - at), failed));
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(sends);
}

/** The acknowledgement latency of the same messages, beside the end-to-end one. */
export function ackFields(acked: LatencyRecorder): Record<string, number> {
  if (acked.count === 0) return {};
  const s = acked.summary();
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return { ack_p50_ms: round(s.p50Ms), ack_p99_ms: round(s.p99Ms), ack_max_ms: round(s.maxMs) };
}
