import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@partq/schema';
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from '../../src/cluster/index.js';

export interface TestCluster extends LocalCluster {
  /**
   * Stops the cluster and drops its database and data directory. PARTQ_KEEP_TEST_DATA keeps both for
   * a post-mortem; the database's URL is written to `database-url` in the data directory.
   */
  dispose(): Promise<void>;
}

/** The managers' sync interval in test clusters: also how long a GetUpdates long-poll waits at a broker. */
export const TEST_SYNC_INTERVAL_MS = 200;

/**
 * A real cluster for a test file: real processes on free ports, over a fresh database on
 * the PostgreSQL named by DATABASE_URL or on the embedded one when it is unset.
 */
export interface TestClusterOptions extends Omit<LocalClusterOptions, 'ports' | 'dataDir' | 'databaseUrl'> {
  /**
   * Runs on the fresh data directory before any role starts (to mount a small disk on a broker's
   * directory, say); what it returns runs after the cluster stopped, before the directory is removed.
   */
  prepareDataDir?: (dataDir: string) => (() => void) | void;
}

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const { prepareDataDir, ...clusterOptions } = options;
  const dataDir = mkdtempSync(join(tmpdir(), 'partq-it-'));
  const undoPrepare = prepareDataDir?.(dataDir);
  const database = await createTestDatabase();
  const fastTimers = { PARTQ_LOG_LEVEL: 'warn', PARTQ_SYNC_INTERVAL: `${TEST_SYNC_INTERVAL_MS}ms` };
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      ...clusterOptions,
      dataDir,
      databaseUrl: database.url,
      ports: 'auto',
      restart: clusterOptions.restart ?? false,
      env: { ...clusterOptions.env, all: { ...fastTimers, ...clusterOptions.env?.all } },
    });
  } catch (error) {
    await database.drop();
    undoPrepare?.();
    throw error;
  }
  return {
    ...cluster,
    async dispose() {
      await cluster.stop();
      undoPrepare?.();
      if (process.env.PARTQ_KEEP_TEST_DATA) {
        writeFileSync(join(dataDir, 'database-url'), database.url);
        return;
      }
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
