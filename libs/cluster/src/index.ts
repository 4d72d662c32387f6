export { MetadataView } from './metadata-view.js';
export { MetadataWatcher, type MetadataWatcherOptions } from './metadata-watcher.js';
export { ActivityReporter } from './activity-reporter.js';
// One key format for partitions in maps, the one @partq/partition defines.
export { partitionKey } from '@partq/partition';
export { assertRetentionLimit } from './retention-limit.js';
