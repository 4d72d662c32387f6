import { BenchError } from './bench-error.js';
import { payloadOf, sizeLabel, withCpu, type BenchContext } from './bench-context.js';
import { runHttpLoad, type HttpLoadResult } from './http-load.js';
import { buildMeasurement, type MeasuredResult } from './measurement.js';
import { processCpuMs } from './proc-stat.js';

const SUCCESS = Buffer.from('"status":"success"');

export function restProduceName(size: number, connections: number): string {
  return `produce.rest.one-per-request.${sizeLabel(size)}.acks-broker.${connections}-conns`;
}

export function bareFastifyName(size: number, connections: number): string {
  return `http-baseline.bare-fastify.${sizeLabel(size)}.${connections}-conns`;
}

/** The body of POST /producer/produce with one message (the same bytes go to bare Fastify). */
export function produceBody(topic: string, producerId: number, size: number): Buffer {
  return Buffer.from(JSON.stringify({ topic, producer_id: producerId, message: payloadOf(size).toString('latin1'), acks: 'broker' }));
}

async function postJson(baseUrl: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(path, baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (answer['status'] !== 'success') throw new BenchError('SETUP_FAILED', `POST ${path}: ${JSON.stringify(answer)}`);
  return answer;
}

/**
 * Runs the REST load for --rest-warmup, unmeasured, against partq (on a topic of its own) and against
 * the bare Fastify server, before their first lines. Why: the REST path (the gateway's routes, its
 * append coalescer, the broker's small Appends) is code the client lines before it do not run, and V8
 * compiles it only under load: on a fresh cluster, 16 connections went from 2 452 to 3 435 and then
 * 3 978 requests/s over three 6 s runs, the roles' CPU per request from 0.51 to 0.29 ms. The bare
 * server gets the same time, so the ratio compares two warm servers.
 */
export async function warmUpRestLoads(context: BenchContext, bare: { url: string }, size: number, connections: number, partq: boolean): Promise<void> {
  const { options, target } = context;
  const body = produceBody('bench', 1, size);
  await runHttpLoad({ url: bare.url, path: '/producer/produce', body, connections, durationMs: options.restWarmupMs });
  if (!partq) return;
  const topic = context.topic(`rest-warmup-${sizeLabel(size)}`);
  await postJson(target.gatewayUrl, '/topics', { topic_name: topic, partitions: options.partitions });
  const registered = await postJson(target.gatewayUrl, '/producer/register', { topic });
  await runHttpLoad({
    url: target.gatewayUrl,
    path: '/producer/produce',
    body: produceBody(topic, Number(registered['producer_id']), size),
    connections,
    durationMs: options.restWarmupMs,
    accept: (status, answer) => status === 200 && answer.includes(SUCCESS),
  });
}

/**
 * REST, one message per request: --http-connections keep-alive clients each POST
 * /producer/produce and send the next request as soon as the answer is there.
 */
export async function measureRestProduce(
  context: BenchContext,
  size: number,
  connections: number,
  bareFastifyMsgsPerS: number | undefined,
): Promise<MeasuredResult> {
  const { options, target } = context;
  const topic = context.topic(`rest-${sizeLabel(size)}-${connections}`);
  await postJson(target.gatewayUrl, '/topics', { topic_name: topic, partitions: options.partitions });
  const registered = await postJson(target.gatewayUrl, '/producer/register', { topic });
  const body = produceBody(topic, Number(registered['producer_id']), size);
  const load = (durationMs: number): Promise<HttpLoadResult> =>
    runHttpLoad({
      url: target.gatewayUrl,
      path: '/producer/produce',
      body,
      connections,
      durationMs,
      accept: (status, answer) => status === 200 && answer.includes(SUCCESS),
    });
  await load(Math.min(500, options.durationMs / 4));
  const { result, cpu } = await withCpu(context, () => load(options.durationMs));
  context.producedBytes += result.ok * size;
  const msgsPerS = result.ok / result.seconds;
  return buildMeasurement({
    name: restProduceName(size, connections),
    kind: 'produce',
    via: 'rest',
    mode: 'concurrent-requests',
    msgBytes: size,
    acks: 'broker',
    msgs: result.ok,
    seconds: result.seconds,
    latency: result.latency,
    cpu,
    cpuVisible: context.cpuVisible,
    errors: result.failures,
    ...(result.firstFailure === undefined ? {} : { firstError: result.firstFailure }),
    extra: {
      http_connections: connections,
      rest_warmup_ms: options.restWarmupMs,
      ...(bareFastifyMsgsPerS === undefined
        ? {}
        : { bare_fastify_msgs_per_s: Math.round(bareFastifyMsgsPerS), vs_bare_fastify: Math.round((msgsPerS / bareFastifyMsgsPerS) * 1000) / 1000 }),
    },
  });
}

/** The same load against a bare Fastify route in a process of its own: the ceiling REST is compared to. */
export async function measureBareFastify(
  context: BenchContext,
  server: { url: string; pid: number },
  size: number,
  connections: number,
): Promise<MeasuredResult> {
  const { options } = context;
  const body = produceBody('bench', 1, size);
  const load = (durationMs: number): Promise<HttpLoadResult> =>
    runHttpLoad({ url: server.url, path: '/producer/produce', body, connections, durationMs });
  await load(Math.min(500, options.durationMs / 4));
  const serverBefore = processCpuMs(server.pid);
  const { result, cpu } = await withCpu(context, () => load(options.durationMs));
  const serverAfter = processCpuMs(server.pid);
  const serverCpu = serverBefore === undefined || serverAfter === undefined ? undefined : serverAfter - serverBefore;
  return buildMeasurement({
    name: bareFastifyName(size, connections),
    kind: 'http-baseline',
    via: 'bare-fastify',
    mode: 'concurrent-requests',
    msgBytes: size,
    msgs: result.ok,
    seconds: result.seconds,
    latency: result.latency,
    cpu,
    // The cluster idles meanwhile; its CPU is not what this line is about.
    cpuVisible: false,
    errors: result.failures,
    ...(result.firstFailure === undefined ? {} : { firstError: result.firstFailure }),
    extra: {
      http_connections: connections,
      rest_warmup_ms: options.restWarmupMs,
      ...(serverCpu === undefined || result.ok === 0 ? {} : { server_cpu_ms_per_msg: Math.round((serverCpu / result.ok) * 10_000) / 10_000 }),
    },
  });
}
