import { fastify, type RouteOptions } from 'fastify';
import { get } from '../../test/http.js';
import { startFakeCluster, type FakeCluster } from '../../test/fakes/fake-cluster.js';
import { restApi } from '../rest/rest-api.js';
import type { RestOptions } from '../rest/rest-options.js';
import { openApiPath, type OpenApiDocument } from './openapi-document.js';

let cluster: FakeCluster;
beforeAll(async () => {
  cluster = await startFakeCluster({ brokers: 1, replicas: 1 });
});
afterAll(async () => {
  await cluster.stop();
});

/** The REST routes as Fastify registers them, found independently of the docs code. */
async function registeredRestRoutes(): Promise<string[]> {
  const app = fastify();
  const routes: string[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  // Handlers never run here: registering the plugin only declares its routes.
  const options = { services: {}, gate: {}, bodyLimit: 1024, batchBodyLimit: 1024 } as unknown as RestOptions;
  await app.register(restApi, options);
  await app.ready();
  await app.close();
  return routes;
}

function operationsOf(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

/** Every "#/..." reference in the document points at something. */
function unresolvedRefs(document: OpenApiDocument): string[] {
  const missing: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') {
        const target = value
          .replace(/^#\//, '')
          .split('/')
          .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], document);
        if (target === undefined) missing.push(value);
      } else visit(value);
    }
  };
  visit(document);
  return missing;
}

test('GET /docs/openapi.json documents every REST route with its method', async () => {
  const reply = await get(cluster.gateway.app, '/docs/openapi.json');
  expect(reply.status).toBe(200);
  const document = reply.body as OpenApiDocument;

  expect(document.openapi).toBe('3.1.0');
  expect(document.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.stringMatching(/^\d+\.\d+\.\d+/) }));
  expect(typeof document.paths).toBe('object');

  const expected = await registeredRestRoutes();
  expect(expected).toEqual(
    expect.arrayContaining([
      'GET /topics',
      'POST /topics',
      'GET /topics/partitions',
      'POST /producer/register',
      'POST /producer/produce',
      'POST /consumer/register',
      'GET /consumer/consume',
      'GET /size',
      'GET /health',
      'GET /brokers',
    ]),
  );
  // Fastify's /items/:id is OpenAPI's /items/{id}.
  const asOpenApi = expected.map((route) => route.replace(/ (.*)$/, (_, url: string) => ` ${openApiPath(url)}`));
  expect(operationsOf(document).sort()).toEqual(asOpenApi.sort());
});

test('operations are well formed: unique ids, responses, parameters from the schemas, resolvable references', async () => {
  const document = (await get(cluster.gateway.app, '/docs/openapi.json')).body as OpenApiDocument;
  const operations = Object.values(document.paths).flatMap((item) => Object.values(item));
  expect(new Set(operations.map((o) => o.operationId)).size).toBe(operations.length);
  for (const operation of operations) {
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['default']));
    const success = Object.keys(operation.responses).find((status) => /^2\d\d$/.test(status));
    // Every route declares the answer of its success status, not just the generic envelope.
    const schema = (operation.responses[success!] as { content?: Record<string, { schema: Record<string, unknown> }> }).content?.['application/json']?.schema;
    expect({ operation: operation.operationId, declared: schema !== undefined && !('$ref' in schema) }).toEqual({ operation: operation.operationId, declared: true });
    for (const parameter of operation.parameters ?? []) {
      expect(parameter).toEqual(expect.objectContaining({ name: expect.any(String), in: expect.stringMatching(/^(query|path|header)$/), schema: expect.any(Object) }));
    }
  }
  expect(unresolvedRefs(document)).toEqual([]);

  const consume = document.paths['/consumer/consume']!.get!;
  expect(consume.parameters).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'topic', in: 'query', required: true }),
      expect.objectContaining({ name: 'consumer_id', in: 'query', required: true, schema: expect.objectContaining({ type: 'integer' }) }),
      expect.objectContaining({ name: 'partition_id', in: 'query', required: false }),
    ]),
  );
  const produce = document.paths['/producer/produce']!.post!;
  expect(produce.requestBody?.content['application/json']?.schema).toEqual(expect.objectContaining({ type: 'object', required: ['topic', 'producer_id'] }));
  expect(Object.keys(document.paths['/topics']!.post!.responses)).toContain('201');
  // The docs and status pages are not part of the REST API they describe.
  expect(Object.keys(document.paths).filter((path) => path.startsWith('/docs') || path.startsWith('/ui'))).toEqual([]);
});

test('GET /docs is a self-contained HTML reference of the same operations', async () => {
  const reply = await cluster.gateway.app.inject({ method: 'GET', url: '/docs' });
  expect(reply.statusCode).toBe(200);
  expect(reply.headers['content-type']).toMatch(/^text\/html/);
  const document = (await get(cluster.gateway.app, '/docs/openapi.json')).body as OpenApiDocument;
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item)) expect(reply.body).toContain(`id="${operation.operationId}"`);
    expect(reply.body).toContain(`<code>${path}</code>`);
  }
  // The answers' fields, per form where a route has several.
  expect(reply.body).toContain('Answer, HTTP 200: a batch');
  expect(reply.body).toContain('Answer, HTTP 201');
  expect(reply.body).toMatch(/<td><code>results<\/code><\/td><td>array of object<div class="items">items: \{partition_id\*, offset\*, duplicate\}/);
  expect(reply.body).toContain('href="/docs/openapi.json"');
  expect(reply.body).not.toMatch(/<script|(src|href)="https?:/);
});
