import { Producer, type AcksMode } from '@partq/producer';
import { payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { LatencyRecorder } from './latency-recorder.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';
import { produceFor, type ProduceMode, type SendTally } from './produce-loop.js';

export interface ClientProduceCase {
  size: number;
  acks: AcksMode;
  mode: ProduceMode;
}

export function clientProduceName(c: ClientProduceCase): string {
  return `produce.client.${c.mode}.${sizeLabel(c.size)}.acks-${c.acks}`;
}

/** The cold-cluster line that runs before a size's produce lines (see measureProduceWarmUp). */
export function produceWarmUpName(size: number): string {
  return `warm-up.produce.client.pipelined.${sizeLabel(size)}.acks-broker`;
}

/**
 * Produce through @partq/producer. One at a time: await each send() before the next (lingerMs 0,
 * since no other message can join the batch). Pipelined: the client's defaults (5 ms linger,
 * batches of up to 500, 8 batches in flight), with up to --window sends outstanding.
 * Latency is per message, from send() to its acknowledgement.
 */
export async function measureClientProduce(context: BenchContext, c: ClientProduceCase): Promise<MeasuredResult> {
  const result = await produceThroughClient(context, c, clientProduceName(c), context.options.durationMs);
  if (context.options.produceWarmupMs > 0) result.measurement['produce_warmup_ms'] = context.options.produceWarmupMs;
  return result;
}

/**
 * Pipelined acks=broker load for --produce-warmup, on a topic of its own, before a size's produce
 * lines: the lines that follow measure a cluster in its steady state, not one whose brokers, manager
 * and PostgreSQL touch their caches' memory and JIT-compile for the first time. A fresh cluster's
 * first 1 KiB line ran at ~45 000 msgs/s and the same line right after it at ~60 000 (round 27).
 * It is a line of its own (kind 'warm-up'), so that the cold rate stays in every report.
 */
export function measureProduceWarmUp(context: BenchContext, size: number): Promise<MeasuredResult> {
  const c: ClientProduceCase = { size, acks: 'broker', mode: 'pipelined' };
  return produceThroughClient(context, c, produceWarmUpName(size), context.options.produceWarmupMs, 'warm-up');
}

async function produceThroughClient(
  context: BenchContext,
  c: ClientProduceCase,
  name: string,
  durationMs: number,
  kind: 'produce' | 'warm-up' = 'produce',
): Promise<MeasuredResult> {
  const { options, target } = context;
  const topic = context.topic(`${kind === 'warm-up' ? 'warm-up-' : ''}${c.mode}-${sizeLabel(c.size)}-${c.acks}`);
  const producer = new Producer({ urls: [target.gatewayUrl], acks: c.acks, ...(c.mode === 'one-at-a-time' ? { lingerMs: 0 } : {}) });
  try {
    await producer.createTopic(topic, { partitions: options.partitions });
    await producer.register(topic);
    const payload = payloadOf(c.size);
    const send = (): Promise<unknown> => producer.send(topic, payload);
    // Warm-up: connections, JIT, the gateway's and brokers' first appends to these partitions.
    await produceFor(send, c.mode, Math.min(500, durationMs / 4), options.window, new LatencyRecorder());

    const tally: SendTally = { acked: 0, errors: 0, latency: new LatencyRecorder() };
    const { result: seconds, cpu } = await withCpu(context, async () => {
      const started = performance.now();
      const last = await produceFor(send, c.mode, durationMs, options.window, tally.latency, tally);
      return (last - started) / 1000;
    });
    context.producedBytes += tally.acked * c.size;
    return buildMeasurement({
      name,
      kind,
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
