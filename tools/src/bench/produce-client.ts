import { Producer, type AcksMode } from '@partq/producer';
import { errorText, payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { LatencyRecorder } from './latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';

export type ProduceMode = 'one-at-a-time' | 'pipelined';

export interface ClientProduceCase {
  size: number;
  acks: AcksMode;
  mode: ProduceMode;
}

export function clientProduceName(c: ClientProduceCase): string {
  return `produce.client.${c.mode}.${sizeLabel(c.size)}.acks-${c.acks}`;
}

interface SendTally {
  acked: number;
  errors: number;
  firstError?: string;
  latency: LatencyRecorder;
}

/**
 * Produce through @partq/producer. One at a time: await each send() before the next (lingerMs 0,
 * since no other message can join the batch). Pipelined: the client's defaults (5 ms linger,
 * batches of up to 500, 8 batches in flight), with up to --window sends outstanding.
 * Latency is per message, from send() to its acknowledgement.
 */
export async function measureClientProduce(context: BenchContext, c: ClientProduceCase): Promise<MeasuredResult> {
  const { options, target } = context;
  const topic = context.topic(`${c.mode}-${sizeLabel(c.size)}-${c.acks}`);
  const producer = new Producer({ urls: [target.gatewayUrl], acks: c.acks, ...(c.mode === 'one-at-a-time' ? { lingerMs: 0 } : {}) });
  try {
    await producer.createTopic(topic, { partitions: options.partitions });
    await producer.register(topic);
    const payload = payloadOf(c.size);
    // Warm-up: connections, JIT, the gateway's and brokers' first appends to these partitions.
    await produceFor(producer, topic, payload, c.mode, Math.min(500, options.durationMs / 4), options.window, new LatencyRecorder());

    const tally: SendTally = { acked: 0, errors: 0, latency: new LatencyRecorder() };
    const { result: seconds, cpu } = await withCpu(context, async () => {
      const started = performance.now();
      const last = await produceFor(producer, topic, payload, c.mode, options.durationMs, options.window, tally.latency, tally);
      return (last - started) / 1000;
    });
    context.producedBytes += tally.acked * c.size;
    return buildMeasurement({
      name: clientProduceName(c),
      kind: 'produce',
      via: 'client',
      mode: c.mode,
      msgBytes: c.size,
      acks: c.acks,
      msgs: tally.acked,
      seconds,
      latency: tally.latency,
      cpu,
      cpuVisible: context.cpuVisible,
      errors: tally.errors,
      ...(tally.firstError === undefined ? {} : { firstError: tally.firstError }),
    });
  } finally {
    await producer.close();
  }
}

/**
 * Sends `payload` for `durationMs` and waits for every send to settle; returns the time of the
 * last acknowledgement (performance.now()).
 */
export async function produceFor(
  producer: Producer,
  topic: string,
  payload: Uint8Array,
  mode: ProduceMode,
  durationMs: number,
  window: number,
  latency: LatencyRecorder,
  tally: Omit<SendTally, 'latency'> = { acked: 0, errors: 0 },
): Promise<number> {
  const end = performance.now() + durationMs;
  let lastAck = performance.now();
  const settle = (sentAt: number) => (): void => {
    lastAck = performance.now();
    tally.acked++;
    latency.record(lastAck - sentAt);
  };
  const failed = (error: unknown): void => {
    tally.errors++;
    tally.firstError ??= errorText(error);
  };

  if (mode === 'one-at-a-time') {
    while (performance.now() < end) {
      const sentAt = performance.now();
      await producer.send(topic, payload).then(settle(sentAt), failed);
    }
    return lastAck;
  }

  let outstanding = 0;
  let wake: (() => void) | undefined;
  let drained: (() => void) | undefined;
  const release = (): void => {
    outstanding--;
    const w = wake;
    wake = undefined;
    w?.();
    if (outstanding === 0) drained?.();
  };
  while (performance.now() < end) {
    if (outstanding >= window) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    outstanding++;
    const sentAt = performance.now();
    void producer.send(topic, payload).then(settle(sentAt), failed).finally(release);
    // Let timers (the producer's linger) and I/O run now and then while the window is not full.
    if (outstanding % 1000 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  return lastAck;
}
