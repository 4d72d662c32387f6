import { readFileSync } from 'node:fs';
import { MALLOC_TUNING_ENV } from '@partq/runtime';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

// What the local cluster launcher (npm start, the benchmark, these tests) gives every role process.
jest.setTimeout(120_000);

let cluster: TestCluster;

beforeAll(async () => {
  // The broker is told a trim threshold of its own: a caller's environment wins over the launcher's.
  cluster = await startTestCluster({ brokers: 1, replicas: 1, env: { broker: { MALLOC_TRIM_THRESHOLD_: '1048576' } } });
});

afterAll(async () => {
  await cluster?.dispose();
});

/** The environment a running process was started with, read back from the kernel. */
function environmentOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter((entry) => entry !== '');
  return Object.fromEntries(entries.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

test("every role runs with glibc's malloc tuned, unless the caller set its own values", () => {
  const seen = cluster.processes.map((p) => {
    const env = environmentOf(p.pid!);
    return { role: p.spec.role, ...Object.fromEntries(Object.keys(MALLOC_TUNING_ENV).map((name) => [name, env[name]])) };
  });
  expect(seen.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
    { role: 'broker', ...MALLOC_TUNING_ENV, MALLOC_TRIM_THRESHOLD_: '1048576' },
    { role: 'gateway', ...MALLOC_TUNING_ENV },
    { role: 'manager', ...MALLOC_TUNING_ENV },
    { role: 'replica', ...MALLOC_TUNING_ENV },
  ]);
});
