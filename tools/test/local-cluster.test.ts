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
    return { role: p.spec.role, mmap: env['MALLOC_MMAP_THRESHOLD_'], trim: env['MALLOC_TRIM_THRESHOLD_'] };
  });
  const tuned = { mmap: MALLOC_TUNING_ENV['MALLOC_MMAP_THRESHOLD_'], trim: MALLOC_TUNING_ENV['MALLOC_TRIM_THRESHOLD_'] };
  expect(seen.sort((a, b) => a.role.localeCompare(b.role))).toEqual([
    { role: 'broker', ...tuned, trim: '1048576' },
    { role: 'gateway', ...tuned },
    { role: 'manager', ...tuned },
    { role: 'replica', ...tuned },
  ]);
});
