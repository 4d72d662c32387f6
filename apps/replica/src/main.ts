#!/usr/bin/env node
import { applyHeapGrowth, loadConfigOrExit } from '@partq/runtime';
import { replicaConfigSpec } from './config.js';
import { startReplica } from './start-replica.js';

/** The partq-replica process: start, then stop gracefully on SIGINT / SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfigOrExit(replicaConfigSpec, { programName: 'partq-replica' });
  applyHeapGrowth(config.heapGrowthPercent);
  const replica = await startReplica(config);
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`partq-replica: ${signal}, stopping\n`);
    replica.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`partq-replica: stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`partq-replica: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
