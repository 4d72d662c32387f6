#!/usr/bin/env node
import { applyHeapGrowth, runService } from '@partq/runtime';
import { loadManagerConfig } from './config.js';
import { startManager } from './manager.js';

void runService({
  role: 'manager',
  loadConfig: () => loadManagerConfig({ programName: 'partq-manager' }),
  start: (config) => {
    applyHeapGrowth(config.heapGrowthPercent);
    return startManager(config);
  },
});
