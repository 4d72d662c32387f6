#!/usr/bin/env node
import { applyHeapGrowth, createLogger, loadConfig, runService } from '@partq/runtime';
import { startBroker } from './broker.js';
import { brokerConfigSpec } from './config.js';

void runService({
  role: 'broker',
  loadConfig: () => loadConfig(brokerConfigSpec, { programName: 'partq-broker' }),
  start: (config) => {
    applyHeapGrowth(config.heapGrowthPercent);
    const logger = createLogger({ role: 'broker', instanceId: `broker-${process.pid}`, level: config.logLevel });
    return startBroker(config, { logger, awaitRegistration: false });
  },
});
