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
