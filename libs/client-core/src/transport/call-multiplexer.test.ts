import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Code, ConnectError, createClient, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter, createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { serverErrorOf } from '../errors/rpc-error-mapping.js';
import type { SendRequest } from '../gen/partq/v1/client_pb.js';
import { ProducerService } from '../wire.js';
import { createLeanUnaryTransport } from './lean-unary-transport.js';

interface Counts {
  unary: number;
  streams: number;
  streamCalls: number;
}

/** A Send answer that tells which request it answers: the producer id as the one partition id. */
const answerOf = (request: SendRequest) => ({ partitionIds: [request.producerId], offsets: [BigInt(request.topic.length)] });

/**
 * A Connect server (connect-node's own adapter, HTTP/2) serving Send alone, or Send and SendStream.
 * Topic "missing" fails with a partq code and details; "break" ends the stream with an error.
 */
async function startServer(withStream: boolean) {
  const counts: Counts = { unary: 0, streams: 0, streamCalls: 0 };
  const impl: Partial<ServiceImpl<typeof ProducerService>> = {
    send(request) {
      counts.unary++;
      return Promise.resolve(answerOf(request));
    },
  };
  if (withStream) {
    impl.sendStream = async function* (calls) {
      counts.streams++;
      for await (const call of calls) {
        counts.streamCalls++;
        const request = call.request!;
        if (request.topic === 'break') throw new ConnectError('the gateway is stopping', Code.Unavailable, { 'partq-error-code': 'UNAVAILABLE' });
        if (request.topic === 'missing') {
          const details = JSON.stringify({ producerId: request.producerId });
          yield { callId: call.callId, outcome: { case: 'failure', value: { connectCode: Code.NotFound, message: 'producer is not registered', code: 'NOT_FOUND', detailsJson: details } } };
          continue;
        }
        yield { callId: call.callId, outcome: { case: 'response', value: answerOf(request) } };
      }
    };
  }
  const adapter = connectNodeAdapter({ routes: (router) => router.service(ProducerService, impl) });
  const server = http2.createServer(adapter);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientSessions = new Http2SessionManager(url);
  const streams = createConnectTransport({ baseUrl: url, httpVersion: '2', useBinaryFormat: true, sessionManager: clientSessions });
  const transport = createLeanUnaryTransport({
    baseUrl: url,
    http2: clientSessions,
    streams,
    multiplexed: [{ unary: ProducerService.method.send, stream: ProducerService.method.sendStream }],
  });
  return {
    counts,
    client: createClient(ProducerService, transport),
    close: () =>
      new Promise<void>((resolve) => {
        clientSessions.abort();
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('unary calls multiplexed on a stream (CallMultiplexer)', () => {
  it('sends concurrent calls as messages of one stream, each answered by its own answer', async () => {
    const server = await startServer(true);
    try {
      const answers = await Promise.all([1, 2, 3, 4, 5].map((id) => server.client.send({ topic: 'x'.repeat(id), producerId: id })));
      expect(answers.map((a) => [a.partitionIds[0], Number(a.offsets[0])])).toEqual([1, 2, 3, 4, 5].map((id) => [id, id]));
      // A later call goes on the same stream.
      await server.client.send({ topic: 'later', producerId: 9 });
      expect(server.counts).toEqual({ unary: 0, streams: 1, streamCalls: 6 });
    } finally {
      await server.close();
    }
  });

  it('fails a call answered with a failure as the unary call would have, with the partq code and details', async () => {
    const server = await startServer(true);
    try {
      const failure = await server.client.send({ topic: 'missing', producerId: 42 }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ConnectError);
      expect((failure as ConnectError).code).toBe(Code.NotFound);
      expect((failure as ConnectError).rawMessage).toBe('producer is not registered');
      expect(serverErrorOf(failure)).toEqual({ code: 'NOT_FOUND', details: { producerId: 42 } });
      // The stream goes on.
      await expect(server.client.send({ topic: 'ok', producerId: 1 })).resolves.toMatchObject({ partitionIds: [1] });
      expect(server.counts.streams).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('fails the calls pending on a stream that breaks, and opens a new stream for the next call', async () => {
    const server = await startServer(true);
    try {
      const failure = await server.client.send({ topic: 'break', producerId: 1 }).catch((error: unknown) => error);
      expect((failure as ConnectError).code).toBe(Code.Unavailable);
      await expect(server.client.send({ topic: 'ok', producerId: 2 })).resolves.toMatchObject({ partitionIds: [2] });
      expect(server.counts.streams).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('sends a request over 64 KiB as a call of its own (its cost is in its bytes)', async () => {
    const server = await startServer(true);
    try {
      await server.client.send({ topic: 'small', producerId: 1 });
      await expect(server.client.send({ topic: 'large', producerId: 2, messagesData: new Uint8Array(65 * 1024) })).resolves.toMatchObject({ partitionIds: [2] });
      expect(server.counts).toEqual({ unary: 1, streams: 1, streamCalls: 1 });
    } finally {
      await server.close();
    }
  });

  it('makes the calls on their own where the server does not serve the stream (an older gateway)', async () => {
    const server = await startServer(false);
    try {
      const answers = await Promise.all([1, 2, 3].map((id) => server.client.send({ topic: 't', producerId: id })));
      expect(answers.map((a) => a.partitionIds[0])).toEqual([1, 2, 3]);
      await server.client.send({ topic: 't', producerId: 4 });
      expect(server.counts).toEqual({ unary: 4, streams: 0, streamCalls: 0 });
    } finally {
      await server.close();
    }
  });
});
