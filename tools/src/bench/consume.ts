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
 * The manager commits a broker's records to PostgreSQL within its sync interval (1 s by default);
 * waiting this long after filling a backlog reads it as a consumer that fell behind would, not as
 * one reading records the broker has only just written.
 */
const SETTLE_MS = 2_000;

/**
 * Consume throughput from a standing backlog, for each batch size: a consumer registers, then
 * --consume-count messages are produced to a topic of its own (pipelined, not measured), and after
 * SETTLE_MS it reads them all with messages() (maxMessages = its batch: one delivery, one position
 * commit per batch). Each consumer is the first to read its backlog: a second reader of the same
 * records would find them in the replica's read-ahead cache, which says little about catching up.
 * The clock includes opening the stream and the first read, so the backlog must take a while to
 * read: 40 000 messages of 100 B went by in ~0.3 s, of which opening the stream and the first,
 * slower reads were a large part (round 27), hence 100 000 by default.
 */
export async function measureConsume(context: BenchContext, size: number, batches: number[]): Promise<MeasuredResult[]> {
  const results: MeasuredResult[] = [];
  for (const batch of batches) results.push(await measureFirstReader(context, size, batch));
  return results;
}

async function measureFirstReader(context: BenchContext, size: number, batch: number): Promise<MeasuredResult> {
  const { options, target } = context;
  const topic = context.topic(`consume-${sizeLabel(size)}-batch-${batch}`);
  const consumer = new Consumer({ urls: [target.gatewayUrl], maxMessages: batch });
  const producer = new Producer({ urls: [target.gatewayUrl], acks: 'broker' });
  try {
    await producer.createTopic(topic, { partitions: options.partitions });
    await consumer.register(topic);
    await fillBacklog(producer, topic, size, options.consumeCount, options.window);
    context.producedBytes += options.consumeCount * size;
    const settleMs = options.quick ? 0 : SETTLE_MS;
    await new Promise((resolve) => setTimeout(resolve, settleMs));

    context.say(`  ${consumeName(size, batch)}: reading ${options.consumeCount} messages`);
    const { result, cpu } = await withCpu(context, () => readAll(consumer, topic, options.consumeCount));
    return buildMeasurement({
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
      extra: { max_messages: batch, backlog: options.consumeCount, settle_ms: settleMs },
    });
  } finally {
    await producer.close();
    await consumer.close();
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
