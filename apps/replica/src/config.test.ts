import { ConfigError, loadConfig } from '@partq/runtime';
import { replicaConfigSpec } from './config.js';

describe('replica configuration', () => {
  it('needs DATABASE_URL and defaults the rest', () => {
    expect(() => loadConfig(replicaConfigSpec, { argv: [], env: {} })).toThrow(ConfigError);
    const config = loadConfig(replicaConfigSpec, { argv: [], env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' } });
    expect(config).toMatchObject({ port: 0, managerUrl: 'http://127.0.0.1:7000', fetchMaxRecords: 500, readAheadRecords: 2000, readAheadBytes: 8 * 1024 * 1024 });
    expect(config.readDatabaseUrl).toBeUndefined();
    expect(config.advertisedUrl).toBeUndefined();
  });

  it('reads the environment and flags', () => {
    const config = loadConfig(replicaConfigSpec, {
      argv: ['--fetch-max-records=50', '--read-ahead-bytes=65536'],
      env: {
        DATABASE_URL: 'postgres://db/partq',
        PARTQ_REPLICA_PORT: '7300',
        PARTQ_MANAGER_URL: 'http://manager:7000',
        PARTQ_READ_DATABASE_URL: 'postgres://standby/partq',
        PARTQ_REPLICA_READ_AHEAD_RECORDS: '800',
      },
    });
    expect(config).toMatchObject({
      port: 7300,
      managerUrl: 'http://manager:7000',
      readDatabaseUrl: 'postgres://standby/partq',
      fetchMaxRecords: 50,
      readAheadRecords: 800,
      readAheadBytes: 65536,
    });
  });
});
