import { ConfigError } from '@partq/runtime';
import { gatewayConfig, loadGatewayConfig } from './config.js';

const MIB = 1024 * 1024;

describe('gateway config', () => {
  test('defaults', () => {
    const config = loadGatewayConfig({ argv: [], env: {} });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      managerUrl: 'http://127.0.0.1:7000',
      maxMessageBytes: MIB,
      bodyLimit: 2 * MIB + 64 * 1024,
      batchBodyLimit: 16 * MIB,
      produceTimeoutMs: 10_000,
      stickyPartitionBytes: 16 * 1024,
      logLevel: 'info',
    });
  });

  test('how long keyless messages stay on a partition', () => {
    expect(loadGatewayConfig({ argv: ['--sticky-partition-bytes', '0'], env: {} }).stickyPartitionBytes).toBe(0);
    expect(loadGatewayConfig({ argv: [], env: { PARTQ_GATEWAY_STICKY_PARTITION_BYTES: '65536' } }).stickyPartitionBytes).toBe(65_536);
    expect(() => loadGatewayConfig({ argv: [], env: { PARTQ_GATEWAY_STICKY_PARTITION_BYTES: '-1' } })).toThrow(ConfigError);
  });

  test('environment, then flags over it', () => {
    const env = { PARTQ_GATEWAY_PORT: '9000', PARTQ_MANAGER_URL: 'http://manager:7000', PARTQ_MAX_MESSAGE_BYTES: '1000', PARTQ_PRODUCE_TIMEOUT: '2s' };
    expect(loadGatewayConfig({ argv: [], env })).toMatchObject({ port: 9000, managerUrl: 'http://manager:7000', maxMessageBytes: 1000, bodyLimit: 2000 + 64 * 1024, produceTimeoutMs: 2000 });
    expect(loadGatewayConfig({ argv: ['--port', '8081'], env }).port).toBe(8081);
  });

  test('the batch limit is never below the single-body limit', () => {
    expect(loadGatewayConfig({ argv: [], env: { PARTQ_MAX_MESSAGE_BYTES: String(10 * MIB) } }).batchBodyLimit).toBe(20 * MIB + 64 * 1024);
    expect(gatewayConfig({ maxMessageBytes: 100 })).toMatchObject({ bodyLimit: 200 + 64 * 1024, batchBodyLimit: 16 * MIB });
  });

  test('bad values are refused', () => {
    expect(() => loadGatewayConfig({ argv: ['--port', 'http'], env: {} })).toThrow(ConfigError);
    expect(() => loadGatewayConfig({ argv: [], env: { PARTQ_MANAGER_URL: 'not a url' } })).toThrow(ConfigError);
  });
});
