import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCourseWorkload } from './support/course-workload.js';

/*
 * The fault tests' workload must not outlive a failed test: its produce and consume loops, left
 * running, once failed the next test file a minute later. A small HTTP server answering as the
 * gateway does stands in for a cluster, so that the test can count what arrives after the failure.
 */

jest.setTimeout(30_000);

let server: Server;
let url: string;
let requests = 0;

function answer(request: IncomingMessage, response: ServerResponse): void {
  requests++;
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  request.resume();
  request.on('end', () => {
    if (path === '/topics') reply(201, { status: 'success' });
    else if (path.endsWith('/register')) reply(200, { status: 'success', producer_id: 1, consumer_id: 1 });
    else if (path === '/producer/produce') reply(200, { status: 'success', partition_id: 0, offset: requests });
    // A broken gateway for consumers: they retry a 503 until their deadline or until stopped.
    else reply(503, { status: 'error', code: 'UNAVAILABLE' });
  });
}

/**
 * The requests counted once those already sent when the run stopped have reached the server: an
 * aborted fetch rejects at once, but its request may be in this process's socket buffers, unread.
 */
async function requestsOnceSettled(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return requests;
}

beforeAll(async () => {
  server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test('when the fault step throws, every loop stops and the run rejects with its error', async () => {
  const broken = new Error('the fault could not be struck');
  const run = runCourseWorkload(url, {
    scenario: 'stop',
    fault: () => Promise.reject(broken),
  });
  await expect(run).rejects.toBe(broken);
  const atFailure = await requestsOnceSettled();
  // Retries back off by up to 1 s, so a loop still running would call again within 1.5 s.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(requests).toBe(atFailure);
});

test('when a producer fails, the others and the consumers stop too', async () => {
  let produced = 0;
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (request.url === '/producer/produce' && ++produced === 20) {
      // An answer the producer does not expect fails its loop.
      requests++;
      request.resume();
      response.writeHead(409, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'error', code: 'SEQUENCE_CONFLICT' }));
      return;
    }
    answer(request, response);
  });
  const run = runCourseWorkload(url, { scenario: 'stop2', fault: () => new Promise(() => {}) });
  await expect(run).rejects.toThrow();
  const atFailure = await requestsOnceSettled();
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(requests).toBe(atFailure);
});
