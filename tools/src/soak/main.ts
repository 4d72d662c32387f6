#!/usr/bin/env node
import { loadConfigOrExit } from '@partq/runtime';
import { runSoak } from './run-soak.js';
import { soakSpec } from './soak-options.js';

/**
 * `npm run soak [-- flags]`: a whole local cluster under a steady load while brokers are frozen
 * past the dead-broker timeout and roles are killed, then an oracle's verdict on partq's contract
 * (docs/semantics.md). Prints the verdict as one JSON line on stdout, progress on stderr. Exits 0 when
 * the contract held, 1 when it broke, 2 on bad flags, 3 when the soak could not run. `--help` lists
 * the flags.
 */
async function main(): Promise<boolean> {
  const options = loadConfigOrExit(soakSpec, { programName: 'npm run soak --' });
  const say = (message: string): void => void process.stderr.write(`[soak] ${new Date().toISOString()} ${message}\n`);
  const report = await runSoak(options, say);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  for (const [consumer, verdict] of Object.entries(report.consumers)) say(`${consumer}: ${JSON.stringify(verdict)}`);
  say(report.ok ? `contract kept: ${report.acked} acknowledged messages judged` : `CONTRACT BROKEN:\n  ${report.violations.join('\n  ')}`);
  return report.ok;
}

main().then(
  // Clients may keep idle sockets for a while; the run is over.
  (ok) => process.exit(ok ? 0 : 1),
  (error: unknown) => {
    process.stderr.write(`[soak] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(3);
  },
);
