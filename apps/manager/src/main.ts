#!/usr/bin/env node
import { applyHeapGrowth, runService } from '@partq/runtime';
import { loadManagerConfig } from './config.js';
import { startManager } from './manager.js';

void runService('manager', () => loadManagerConfig(), (config) => {
  applyHeapGrowth(config.heapGrowthPercent);
  return startManager(config);
});
