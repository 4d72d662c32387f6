import { ErrorTally } from './error-tally.js';
import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';
import { RssSampler, rssFields, type RssFigures } from './rss-sampler.js';

const SIZE = 1024;
const BATCH = 500;

export function brokerMemoryName(bytes: number): string {
  return `broker-rss.flow-${sizeLabel(bytes)}`;
}

/** The broker RSS figure of the whole run: what the brokers held while everything above flowed through. */
export function wholeRunMemory(context: BenchContext, figures: RssFigures, seconds: number): MeasuredResult {
  return buildMeasurement({
    name: 'broker-rss.whole-run',
    kind: 'broker-rss',
    msgs: 0,
    seconds,
    cpuVisible: false,
    extra: { produced_mb: Math.round(context.producedBytes / 1e6), ...rssFields(figures) },
  });
}

/**
 * --mem: --mem-bytes of 1 KiB messages flow through the brokers (pipelined producer, acks=broker; a
 * consumer reads at the same time, as far as it gets) while the brokers' RSS is sampled. Bounded memory means the peak stays flat however
 * much flows: WALs are trimmed once the manager committed them to PostgreSQL, caches are capped.
 */
export async function measureBrokerMemory(context: BenchContext): Promise<MeasuredResult> {
  const { options, target } = context;
  const count = Math.ceil(options.memBytes / SIZE);
  const topic = context.topic('memory');
  const producer = new Producer({ urls: [target.gatewayUrl], acks: 'broker' });
  const consumer = new Consumer({ urls: [target.gatewayUrl], maxMessages: 1000 });
  const sampler = new RssSampler(target.processes, 'broker');
  const tally = new ErrorTally();
  const failed = tally.record;
  try {
    await producer.createTopic(topic, { partitions: options.partitions });
    await consumer.register(topic);
    sampler.start();
    const { result, cpu } = await withCpu(context, async () => {
      const started = performance.now();
      const stop = new AbortController();
      let received = 0;
      let acked = 0;
      const reading = (async () => {
        try {
          for await (const _message of consumer.messages(topic, { signal: stop.signal })) if (++received >= count) return;
        } catch (error) {
          if (!stop.signal.aborted) failed(error);
        }
      })();
      const batch = Array.from({ length: BATCH }, () => payloadOf(SIZE));
      const inFlight = new Set<Promise<void>>();
      let lastReport = performance.now();
      for (let sent = 0; sent < count; ) {
        const n = Math.min(BATCH, count - sent);
        const send = producer.send(topic, n === BATCH ? batch : batch.slice(0, n)).then(() => void (acked += n), failed);
        inFlight.add(send);
        void send.finally(() => inFlight.delete(send));
        sent += n;
        if (inFlight.size * BATCH >= options.window) await Promise.race(inFlight);
        if (performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          context.say(`  ${brokerMemoryName(options.memBytes)}: ${Math.round((sent * SIZE) / 1e6)} MB sent, ${received} messages read`);
        }
      }
      await Promise.all(inFlight);
      const seconds = (performance.now() - started) / 1000;
      // The reader only keeps the fetch path busy meanwhile; it need not catch up before the figures are taken.
      stop.abort();
      await reading;
      return { acked, received, seconds };
    });
    context.producedBytes += count * SIZE;
    return buildMeasurement({
      name: brokerMemoryName(options.memBytes),
      kind: 'broker-rss',
      via: 'client',
      mode: 'pipelined',
      msgBytes: SIZE,
      acks: 'broker',
      msgs: result.acked,
      seconds: result.seconds,
      cpu,
      cpuVisible: context.cpuVisible,
      ...tally.fields(),
      extra: { flowed_mb: Math.round((count * SIZE) / 1e6), consumed_meanwhile: result.received, ...rssFields(sampler.stop()) },
    });
  } finally {
    sampler.stop();
    await producer.close();
    await consumer.close();
  }
}
