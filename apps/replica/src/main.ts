#!/usr/bin/env node
import { applyHeapGrowth, loadConfig, runService } from '@partq/runtime';
import { replicaConfigSpec } from './config.js';
import { startReplica } from './start-replica.js';

void runService({
  role: 'replica',
  loadConfig: () => loadConfig(replicaConfigSpec, { programName: 'partq-replica' }),
  start: (config) => {
    applyHeapGrowth(config.heapGrowthPercent);
    return startReplica(config);
  },
});
