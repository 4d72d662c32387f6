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
