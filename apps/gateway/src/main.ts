#!/usr/bin/env node
import { applyHeapGrowth, runService } from '@partq/runtime';
import { loadGatewayConfig } from './config.js';
import { startGateway } from './gateway.js';

/** partq-gateway: flags (--port 8081, see --help) override PARTQ_* environment variables. */
void runService({
  role: 'gateway',
  loadConfig: () => loadGatewayConfig(),
  start: (config) => {
    applyHeapGrowth(config.heapGrowthPercent);
    return startGateway(config, { waitForMetadata: false });
  },
});
