import type { Measurement } from './measurement.js';
import { checkTargets } from './targets.js';

function line(name: string, msgsPerS: number, extra: Record<string, unknown> = {}): Measurement {
  return {
    name,
    kind: name.startsWith('reference') ? 'reference' : 'produce',
    msgs: msgsPerS,
    bytes: 0,
    seconds: 1,
    msgs_per_s: msgsPerS,
    mb_per_s: 0,
    p50_ms: null,
    p99_ms: null,
    max_ms: null,
    cpu_ms_per_msg: null,
    cpu_ms: null,
    client_cpu_ms_per_msg: 0,
    errors: 0,
    load_avg_1m: 0,
    ...extra,
  };
}

const natsLine = (checks: ReturnType<typeof checkTargets>) => checks.find((c) => c.target.startsWith('partq vs NATS JetStream'));

test('partq vs NATS: the ratio of the acks=broker client rate to the NATS rate, mode by mode, never pass/fail', () => {
  const fsync = 'per 2 min (fixed before nats-server 2.10), not per message';
  const checks = checkTargets(
    [
      line('produce.client.pipelined.100B.acks-broker', 20_000),
      line('produce.client.pipelined.100B.acks-all', 5_000),
      line('produce.client.one-at-a-time.100B.acks-broker', 900),
      line('reference.nats-jetstream.pipelined.100B', 40_000, { fsync }),
      line('reference.nats-jetstream.one-at-a-time.100B', 3_000, { fsync }),
    ],
    [100],
  );
  expect(natsLine(checks)).toEqual({
    target: expect.stringContaining('partq vs NATS JetStream on this machine') as unknown,
    measured: `pipelined 100B 0.50, one-at-a-time 100B 0.30 (NATS fsync: ${fsync})`,
    met: undefined,
    informational: true,
  });
});

test('partq vs NATS: skipped NATS lines and missing runs say so', () => {
  const checks = checkTargets(
    [
      line('produce.client.pipelined.100B.acks-broker', 20_000),
      line('reference.nats-jetstream.pipelined.100B', 0, { skipped: 'NATS not reachable' }),
    ],
    [100],
  );
  expect(natsLine(checks)?.measured).toBe('pipelined 100B NATS skipped, one-at-a-time 100B not measured');
});

test('REST vs bare Fastify: one line per concurrency, each judged on its own ratio', () => {
  const rest = (connections: number, rate: number, bare: number, errors = 0) =>
    line(`produce.rest.one-per-request.100B.acks-broker.${connections}-conns`, rate, {
      via: 'rest',
      msg_bytes: 100,
      errors,
      http_connections: connections,
      bare_fastify_msgs_per_s: bare,
      vs_bare_fastify: rate / bare,
    });
  const checks = checkTargets([rest(16, 5_000, 50_000), rest(256, 21_000, 50_000), rest(512, 30_000, 50_000, 3)], [100]);
  const lines = checks.filter((c) => c.target.startsWith('REST one message per request 100B'));
  expect(lines.map((c) => [c.target, c.measured, c.met])).toEqual([
    ['REST one message per request 100B, 16 connections >= 40% of bare Fastify', '10.0% (5000 vs 50000 req/s)', false],
    ['REST one message per request 100B, 256 connections >= 40% of bare Fastify', '42.0% (21000 vs 50000 req/s)', true],
    // A run with failed requests meets nothing, whatever its rate.
    ['REST one message per request 100B, 512 connections >= 40% of bare Fastify', '60.0% (30000 vs 50000 req/s)', false],
  ]);
});

test('REST vs bare Fastify: not measured says so', () => {
  const checks = checkTargets([line('produce.client.pipelined.100B.acks-broker', 20_000)], [100]);
  expect(checks.find((c) => c.target.startsWith('REST'))).toEqual({
    target: 'REST one message per request 100B >= 40% of bare Fastify',
    measured: 'not measured',
    met: undefined,
  });
});

const floorLine = (checks: ReturnType<typeof checkTargets>) => checks.find((c) => c.target.startsWith('end-to-end vs the hop floor'));

test('end-to-end vs the hop floor: both latencies and CPU per message side by side, never pass/fail', () => {
  const checks = checkTargets(
    [
      line('e2e-latency.fixed-rate-2000-per-s.100B', 2_000, { kind: 'e2e-latency', p50_ms: 14.6, p99_ms: 32.1, cpu_ms_per_msg: 0.8 }),
      line('reference.hop-floor.e2e-latency.fixed-rate-2000-per-s.100B', 2_000, { via: 'hop-floor', p50_ms: 0.8, p99_ms: 4.7, cpu_ms_per_msg: 0.25 }),
    ],
    [100],
  );
  expect(floorLine(checks)).toEqual({
    target: expect.stringContaining('end-to-end vs the hop floor') as unknown,
    measured: 'partq p50 14.6 / p99 32.1 ms, 0.8 ms CPU/msg; floor p50 0.8 / p99 4.7 ms, 0.25 ms CPU/msg',
    met: undefined,
    informational: true,
  });
});

test('end-to-end vs the hop floor: a skipped floor or a missing run says so', () => {
  const skipped = checkTargets([line('reference.hop-floor.e2e-latency.fixed-rate-2000-per-s.100B', 0, { via: 'hop-floor', skipped: 'needs a PostgreSQL' })], [100]);
  expect(floorLine(skipped)?.measured).toBe('partq not measured; floor skipped');
});
