#!/usr/bin/env node
import { defineConfig, loadConfigOrExit } from '@partq/runtime';
import { startLocalCluster, type LocalCluster } from './local-cluster.js';

const spec = defineConfig({
  dataDir: { env: 'PARTQ_DATA_DIR', type: 'string', default: '.partq', description: 'Where PostgreSQL data, WALs, logs and cluster.json go' },
  managers: { env: 'PARTQ_MANAGERS', type: 'integer', default: 1, min: 1, max: 5, description: 'Number of managers (one active, the rest standbys; ports from 7000 up)' },
  brokers: { env: 'PARTQ_BROKERS', type: 'integer', default: 3, min: 1, max: 32, description: 'Number of brokers' },
  replicas: { env: 'PARTQ_REPLICAS', type: 'integer', default: 1, min: 1, max: 16, description: 'Number of replicas' },
  gateways: { env: 'PARTQ_GATEWAYS', type: 'integer', default: 1, min: 1, max: 16, description: 'Number of gateways (ports from 8080 up)' },
  gatewayPort: { env: 'PARTQ_GATEWAY_PORT', type: 'integer', default: 8080, description: 'Port of the first gateway' },
  anyPorts: {
    type: 'boolean',
    default: false,
    description: 'Listen on free ports instead of 7000, 7101+, 7201+, 8080+ and 54329 (a second cluster beside another; see cluster.json)',
  },
  databaseUrl: { env: 'DATABASE_URL', type: 'string', description: 'Use this PostgreSQL instead of the embedded one' },
  adminToken: { env: 'PARTQ_ADMIN_TOKEN', type: 'string', description: "The gateways' admin API token (default: a new random one at every start, printed and in cluster.json)" },
  restart: { type: 'boolean', default: true, description: 'Restart a role process, or the embedded PostgreSQL, that dies (--no-restart to turn off)' },
  verbose: { type: 'boolean', default: false, description: "Echo the roles' JSON logs here too (they are always in <data-dir>/logs)" },
});

async function main(): Promise<void> {
  const config = loadConfigOrExit(spec, { programName: 'npm start --' });
  const say = (message: string): void => void process.stderr.write(`[partq] ${message}\n`);
  let cluster: LocalCluster | undefined;
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the cluster`);
    // Still starting: exiting stops what started (the roles get SIGTERM, PostgreSQL a fast shutdown).
    if (!cluster) process.exit(130);
    cluster.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        say(`stop failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  // Set before anything starts: the processes run in groups of their own and hear no Ctrl-C.
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // The terminal closed.
  process.on('SIGHUP', () => shutdown('SIGHUP'));

  cluster = await startLocalCluster({
    dataDir: config.dataDir,
    brokers: config.brokers,
    managers: config.managers,
    replicas: config.replicas,
    gateways: config.gateways,
    databaseUrl: config.databaseUrl,
    adminToken: config.adminToken,
    ports: config.anyPorts ? 'auto' : { manager: 7000, gateway: config.gatewayPort, brokerBase: 7101, replicaBase: 7201 },
    restart: config.restart,
    // Ctrl-C reaches this process alone, which stops the roles in order and PostgreSQL last.
    ownProcessGroups: true,
    echo: config.verbose ? process.stdout : undefined,
    onEvent: say,
  });
  process.stdout.write(
    `\npartq is running. Point your client at:\n\n  ${cluster.gatewayUrl}\n\n` +
      `  curl ${cluster.gatewayUrl}/topics\n` +
      `  curl -H 'authorization: Bearer ${cluster.adminToken}' ${cluster.gatewayUrl}/admin/brokers\n` +
      `Processes and logs: ${cluster.dataDir}/cluster.json, ${cluster.dataDir}/logs/. Ctrl-C stops everything.\n\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`[partq] failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
