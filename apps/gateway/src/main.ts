#!/usr/bin/env node
import { applyHeapGrowth, loadConfigOrExit } from '@partq/runtime';
import { gatewayConfigSpec, resolveGatewayConfig } from './config.js';
import { startGateway } from './gateway.js';

/** partq-gateway: flags (--port 8081, see --help) override PARTQ_* environment variables. */
async function main(): Promise<void> {
  const config = resolveGatewayConfig(loadConfigOrExit(gatewayConfigSpec, { programName: 'partq-gateway' }));
  applyHeapGrowth(config.heapGrowthPercent);
  const gateway = await startGateway(config, { waitForMetadata: false });

  let signals = 0;
  const shutdown = (signal: NodeJS.Signals): void => {
    // A second signal means "now": skip the graceful drain.
    if (++signals > 1) process.exit(1);
    process.stderr.write(`partq-gateway: ${signal}, shutting down\n`);
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`partq-gateway: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`partq-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
