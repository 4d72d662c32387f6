export { MetadataView } from './metadata-view.js';
export { MetadataWatcher, type MetadataWatcherOptions } from './metadata-watcher.js';
export { ActivityReporter } from './activity-reporter.js';
export { partitionKey } from './partition-key.js';
export { assertRetentionLimit } from './retention-limit.js';
