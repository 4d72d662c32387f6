#!/usr/bin/env node
import { applyHeapGrowth, createLogger, loadConfigOrExit } from '@partq/runtime';
import { startBroker } from './broker.js';
import { brokerConfigSpec } from './config.js';

/** Longest a graceful shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 20_000;

async function main(): Promise<void> {
  // --help prints and exits 0; a bad configuration prints the reason and exits 2.
  const config = loadConfigOrExit(brokerConfigSpec, { programName: 'partq-broker' });
  applyHeapGrowth(config.heapGrowthPercent);
  const logger = createLogger({ role: 'broker', instanceId: String(process.pid), level: config.logLevel });
  const broker = await startBroker(config, { logger, awaitRegistration: false });

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'broker: shutting down');
    setTimeout(() => {
      logger.error('broker: graceful shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    broker.stop().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        logger.error({ err: error }, 'broker: shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`partq-broker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
