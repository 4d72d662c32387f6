import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EchoService } from '../../test/echo-service.js';
import { fromConnectError } from '../errors/connect-mapping.js';
import { closeRpcTransports, createRpcClient, createRpcTransport } from './transport.js';

afterEach(() => closeRpcTransports());

describe('createRpcTransport', () => {
  it('reuses one transport per base URL, trailing slash or not', () => {
    const a = createRpcTransport('http://127.0.0.1:7001');
    expect(createRpcTransport('http://127.0.0.1:7001/')).toBe(a);
    expect(createRpcTransport('http://127.0.0.1:7002')).not.toBe(a);
  });

  it('makes a new transport after the peer was closed', () => {
    const a = createRpcTransport('http://127.0.0.1:7001');
    closeRpcTransports('http://127.0.0.1:7001/');
    expect(createRpcTransport('http://127.0.0.1:7001')).not.toBe(a);
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => createRpcTransport('127.0.0.1:7001')).toThrow(TypeError);
    expect(() => createRpcTransport('ftp://host/')).toThrow(TypeError);
  });
});

describe('createRpcClient', () => {
  it('reports a peer that is not listening as UNAVAILABLE, which retry will retry', async () => {
    const client = createRpcClient(EchoService, 'http://127.0.0.1:1');
    let failure: unknown;
    try {
      await client.echo({ value: 'x' });
    } catch (e) {
      failure = e;
    }
    const err = fromConnectError(failure);
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.retriable).toBe(true);
  });
});

describe('answers between roles', () => {
  it('are not asked to be compressed (no Accept-Encoding on calls)', async () => {
    let seen: IncomingHttpHeaders | undefined;
    // A stand-in peer: records the request headers and answers an empty Echo response.
    const server = createServer((request, response) => {
      seen = request.headers;
      request.resume();
      request.on('end', () => response.writeHead(200, { 'content-type': 'application/proto' }).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const answer = await createRpcClient(EchoService, url).echo({ value: 'x' });
      expect(answer.value).toBe('');
      expect(seen?.['content-type']).toBe('application/proto');
      expect(seen?.['accept-encoding']).toBeUndefined();
    } finally {
      closeRpcTransports(url);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
