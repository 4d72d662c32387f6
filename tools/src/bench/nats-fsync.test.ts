import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { natsFsyncPolicy, readNatsVarz } from './nats-fsync.js';

describe('natsFsyncPolicy', () => {
  test('the monitoring port decides when it answered', () => {
    expect(natsFsyncPolicy({ version: '2.10.4', varz: { sync_always: true } })).toEqual({
      policy: 'every write (sync_interval: always)',
      source: 'monitoring /varz',
    });
    expect(natsFsyncPolicy({ version: '2.10.4', varz: { sync_interval: 10e9 } }).policy).toBe('per sync_interval (10 s), not per message');
    expect(natsFsyncPolicy({ version: '2.11.0', varz: { sync_interval: 120e9 } }).policy).toBe('per sync_interval (2 min), not per message');
    expect(natsFsyncPolicy({ version: '2.10.4', varz: {} }).policy).toBe('per sync_interval (2 min, the default), not per message');
  });

  test('servers before 2.10 have no setting: every 2 minutes', () => {
    expect(natsFsyncPolicy({ version: '2.9.10', argv: ['nats-server', '-c', 'x.conf'] })).toEqual({
      policy: 'per 2 min (fixed before nats-server 2.10), not per message',
      source: 'server version',
    });
  });

  test('a newer server without a config file has the default; with one and no /varz it is unknown', () => {
    expect(natsFsyncPolicy({ version: '2.10.1', argv: ['nats-server', '-js'] }).source).toBe('command line');
    expect(natsFsyncPolicy({ version: '2.10.1', argv: ['nats-server', '-js', '--config=/etc/nats.conf'] }).source).toBe('unknown');
    expect(natsFsyncPolicy({ version: undefined }).policy).toMatch(/^unknown /);
  });
});

describe('readNatsVarz', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url !== '/varz') return void response.writeHead(404).end();
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ version: '2.10.4', jetstream: { config: { max_memory: 1, sync_interval: 5e9 } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('asks the monitoring port named on the command line', async () => {
    await expect(readNatsVarz('127.0.0.1', ['nats-server', '-m', String(port)])).resolves.toEqual({ max_memory: 1, sync_interval: 5e9 });
    await expect(readNatsVarz('127.0.0.1', ['nats-server', `--http_port=${port}`])).resolves.toMatchObject({ sync_interval: 5e9 });
  });

  test('no monitoring port, an unknown command line, or nothing listening: undefined', async () => {
    await expect(readNatsVarz('127.0.0.1', ['nats-server', '-js'])).resolves.toBeUndefined();
    await expect(readNatsVarz('127.0.0.1', undefined)).resolves.toBeUndefined();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(readNatsVarz('127.0.0.1', ['nats-server', '-m', String(closedPort)])).resolves.toBeUndefined();
  });
});
