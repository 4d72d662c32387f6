import { Counter, Registry } from 'prom-client';
import { TrafficSampler, totalsByTopic } from './traffic-sampler.js';

function counters(): { produced: Counter<'topic'>; consumed: Counter<'topic'> } {
  const registry = new Registry();
  return {
    produced: new Counter({ name: 'produced_total', help: 'p', labelNames: ['topic'], registers: [registry] }),
    consumed: new Counter({ name: 'consumed_total', help: 'c', labelNames: ['topic'], registers: [registry] }),
  };
}

test('totalsByTopic reads a counter per topic label', async () => {
  const { produced } = counters();
  produced.inc({ topic: 'a' }, 3);
  produced.inc({ topic: 'b' });
  expect(await totalsByTopic(produced)).toEqual(new Map([['a', 3], ['b', 1]]));
});

test('samples of the gateway counters become produce and consume rates', async () => {
  const { produced, consumed } = counters();
  let now = 10_000;
  const sampler = new TrafficSampler({ produced, consumed, sampleIntervalMs: 1000, windowMs: 2000, now: () => now });
  await sampler.sample();
  produced.inc({ topic: 'orders' }, 30);
  now += 1000;
  await sampler.sample();
  produced.inc({ topic: 'orders' }, 10);
  consumed.inc({ topic: 'orders' }, 20);
  now += 1000;
  await sampler.sample();

  expect(sampler.produce.rate('orders')).toBe(20);
  expect(sampler.produce.series('orders')).toEqual([30, 10]);
  expect(sampler.consume.rate('orders')).toBe(10);
  expect(sampler.consume.series()).toEqual([0, 20]);
});

test('start samples at once and stop ends the timer', async () => {
  const { produced, consumed } = counters();
  produced.inc({ topic: 't' }, 2);
  const sampler = new TrafficSampler({ produced, consumed, sampleIntervalMs: 60_000 });
  sampler.start();
  await sampler.stop();
  expect(sampler.produce.total('t')).toBe(2);
});
