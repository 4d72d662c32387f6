import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { BenchError } from './bench-error.js';
import { errorText, payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';

/** Longest wait for the next message before a consume run gives up. */
const STALL_MS = 15_000;

export function consumeName(size: number, batch: number): string {
  return `consume.client.batch-${batch}.${sizeLabel(size)}`;
}

/**
 * Consume throughput from a standing backlog: one consumer per batch size registers, then
 * --consume-count messages are produced (pipelined, not measured), then each consumer reads them
 * all with messages() (maxMessages = its batch: one delivery, one position commit per batch).
 */
export async function measureConsume(context: BenchContext, size: number, batches: number[]): Promise<MeasuredResult[]> {
  const { options, target } = context;
  const topic = context.topic(`consume-${sizeLabel(size)}`);
  const consumers = batches.map((batch) => ({ batch, consumer: new Consumer({ urls: [target.gatewayUrl], maxMessages: batch }) }));
  const producer = new Producer({ urls: [target.gatewayUrl], acks: 'broker' });
  try {
    await producer.createTopic(topic, { partitions: options.partitions });
    for (const { consumer } of consumers) await consumer.register(topic);
    await fillBacklog(producer, topic, size, options.consumeCount, options.window);
    context.producedBytes += options.consumeCount * size;

    const results: MeasuredResult[] = [];
    for (const { batch, consumer } of consumers) {
      context.say(`  ${consumeName(size, batch)}: reading ${options.consumeCount} messages`);
      const { result, cpu } = await withCpu(context, () => readAll(consumer, topic, options.consumeCount));
      results.push(
        buildMeasurement({
          name: consumeName(size, batch),
          kind: 'consume',
          via: 'client',
          mode: 'backlog',
          msgBytes: size,
          msgs: result.received,
          seconds: result.seconds,
          cpu,
          cpuVisible: context.cpuVisible,
          errors: result.error === undefined ? 0 : 1,
          ...(result.error === undefined ? {} : { firstError: result.error }),
          extra: { max_messages: batch, backlog: options.consumeCount },
        }),
      );
    }
    return results;
  } finally {
    await producer.close();
    for (const { consumer } of consumers) await consumer.close();
  }
}

async function fillBacklog(producer: Producer, topic: string, size: number, count: number, window: number): Promise<void> {
  const payload = payloadOf(size);
  const tally = { acked: 0, errors: 0, firstError: undefined as string | undefined };
  const batch = Array.from({ length: 500 }, () => payload);
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  while (sent < count) {
    const n = Math.min(batch.length, count - sent);
    const send = producer.send(topic, n === batch.length ? batch : batch.slice(0, n)).then(
      () => void (tally.acked += n),
      (error: unknown) => void (tally.errors++, (tally.firstError ??= errorText(error))),
    );
    sent += n;
    inFlight.add(send);
    void send.finally(() => inFlight.delete(send));
    if (inFlight.size * batch.length >= window) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (tally.errors > 0) throw new BenchError('MEASUREMENT_FAILED', `could not fill the consume backlog: ${tally.firstError}`);
}

/** Reads `count` messages with messages(); stops early when nothing arrives for STALL_MS. */
async function readAll(consumer: Consumer, topic: string, count: number): Promise<{ received: number; seconds: number; error?: string }> {
  const stop = new AbortController();
  let received = 0;
  let stalled: NodeJS.Timeout | undefined;
  const armStall = (): void => {
    clearTimeout(stalled);
    stalled = setTimeout(() => stop.abort(), STALL_MS);
  };
  const started = performance.now();
  let error: string | undefined;
  armStall();
  try {
    for await (const _message of consumer.messages(topic, { signal: stop.signal })) {
      received++;
      if (received % 1000 === 0) armStall();
      if (received >= count) break;
    }
  } catch (cause) {
    error = stop.signal.aborted ? `stalled after ${received} of ${count} messages` : errorText(cause);
  } finally {
    clearTimeout(stalled);
  }
  return { received, seconds: (performance.now() - started) / 1000, ...(error === undefined ? {} : { error }) };
}
