#!/usr/bin/env node
import { loadConfigOrExit } from '@partq/runtime';
import { BenchError } from './bench-error.js';
import { benchSpec, resolveBenchOptions } from './options.js';
import { runBench } from './run-bench.js';

/**
 * `npm run bench [-- flags]`: partq's throughput, latency, CPU and memory on this machine. Prints
 * one JSON line per measurement on stdout, then a summary table with the "Fast" issue's targets;
 * progress goes to stderr. `--help` lists the flags.
 */
async function main(): Promise<void> {
  const config = loadConfigOrExit(benchSpec, { programName: 'npm run bench --' });
  const options = resolveBenchOptions(config);
  await runBench(options, {
    out: (text) => void process.stdout.write(text),
    say: (message) => void process.stderr.write(`[bench] ${message}\n`),
  });
}

main().then(
  // Clients may keep idle sockets for a while; the run is over.
  () => process.exit(0),
  (error: unknown) => {
    const text = error instanceof BenchError ? `${error.code}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[bench] failed: ${text}\n`);
    process.exit(1);
  },
);
