import { join } from 'node:path';
import type { SoakReport } from '../src/soak/run-soak.js';
import { runScript } from './support/run-script.js';

// `npm run soak` for a few seconds with a fault every second: it must start its own cluster, strike
// faults, judge, print its verdict as one JSON line and exit 0 when the contract held. The long runs
// that found bugs are in docs/semantics.md; this only keeps the tool working.
jest.setTimeout(180_000);

const SOAK = join(__dirname, '..', 'dist', 'soak', 'main.js');

function runSoak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(SOAK, args);
}

test('a short soak strikes faults, judges every acknowledged message and keeps the contract', async () => {
  const { code, stdout, stderr } = await runSoak(['--duration', '8s', '--fault-every', '1500ms', '--rate', '300', '--quiet', '5s', '--seed', '7']);
  const lines = stdout.split('\n').filter((line) => line.startsWith('{'));
  expect(lines).toHaveLength(1);
  const report = JSON.parse(lines[0]!) as SoakReport;
  expect({ code, violations: report.violations }).toEqual({ code: 0, violations: [] });
  expect(report).toMatchObject({ seed: 7, ok: true, failedSends: expect.any(Number), sendFailures: expect.any(Object) });
  expect(report.faults.stops + report.faults.kills).toBeGreaterThanOrEqual(3);
  expect(report.acked).toBeGreaterThan(100);
  for (const verdict of Object.values(report.consumers)) expect(verdict.delivered).toBeGreaterThan(0);
  expect(stderr).toContain('contract kept');
});

test('bad flags are refused with a usage error, and nothing starts', async () => {
  const { code, stderr } = await runSoak(['--duration', 'soon']);
  expect(code).toBe(2);
  expect(stderr).toMatch(/duration/);
});
