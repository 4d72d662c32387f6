export { startManager, type RunningManager } from './manager.js';
export { loadManagerConfig, managerConfigSpec, type ManagerConfig } from './config.js';
