import { defineConfig, type Config } from '@partq/runtime';

/** Every flag of `npm run soak -- ...`. */
export const soakSpec = defineConfig({
  duration: { type: 'duration', default: '2m', min: 1000, description: 'How long faults are struck while messages flow' },
  databaseUrl: {
    type: 'string',
    env: 'DATABASE_URL',
    description: 'PostgreSQL for the cluster (a fresh database is made and dropped); default: embedded',
  },
  brokers: { type: 'integer', default: 3, min: 2, max: 16, description: 'Brokers of the cluster (a stopped one needs another to take its partitions)' },
  replicas: { type: 'integer', default: 1, min: 1, max: 8, description: 'Replicas of the cluster (consumers move between them as they die)' },
  gateways: { type: 'integer', default: 1, min: 1, max: 8, description: 'Gateways of the cluster; the clients are given all of them' },
  partitions: { type: 'integer', default: 6, min: 1, max: 1000, description: 'Partitions of the soak topic' },
  rate: { type: 'integer', default: 2000, min: 1, description: 'Messages a second each of the four producers sends, at most' },
  faultEvery: { type: 'duration', default: '4s', min: 100, description: 'Mean time between two faults' },
  brokerTimeout: {
    type: 'duration',
    default: '2s',
    min: 500,
    description: "The manager's dead-broker timeout: about half the broker stops outlast it, so the broker is declared dead",
  },
  quiet: { type: 'duration', default: '15s', min: 1000, description: 'After the faults: how long no delivery may come before the run ends' },
  seed: { type: 'integer', default: 0, min: 0, description: 'Seed of the fault schedule (0: from the clock); the report prints it, so a run can be repeated' },
  keepData: {
    type: 'boolean',
    default: false,
    description: "Keep the cluster's data directory (WALs, logs, and soak-record.json: every acknowledgement and delivery the oracle judged) and its database after the run, to look into a failure",
  },
  roleLogLevel: {
    type: 'string',
    choices: ['debug', 'info', 'warn', 'error'],
    default: 'warn',
    description: "Log level of the cluster's roles (their logs are in the data directory's logs/)",
  },
});

export type SoakOptions = Config<typeof soakSpec>;
