#!/usr/bin/env node
import { runService } from '@partq/runtime';
import { loadManagerConfig } from './config.js';
import { startManager } from './manager.js';

void runService('manager', () => loadManagerConfig(), startManager);
