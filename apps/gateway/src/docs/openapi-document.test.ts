import { fastify, type FastifyInstance } from 'fastify';
import { buildOpenApiDocument, openApiPath } from './openapi-document.js';
import { HIDDEN_FROM_DOCS, RouteCatalog } from './route-catalog.js';

const info = { title: 'test API', version: '1.2.3' };

async function catalogOf(register: (app: FastifyInstance) => void): Promise<RouteCatalog> {
  const app = fastify() as unknown as FastifyInstance;
  const catalog = new RouteCatalog();
  catalog.watch(app);
  register(app);
  await app.ready();
  await app.close();
  return catalog;
}

describe('RouteCatalog', () => {
  test('records routes of child plugins, leaves out the automatic HEAD and hidden routes', async () => {
    const catalog = await catalogOf((app) => {
      app.get('/a', async () => 'a');
      app.get('/hidden', { config: HIDDEN_FROM_DOCS }, async () => 'h');
      app.register(async (child) => {
        child.route({ method: ['POST', 'PUT'], url: '/b/:id', handler: async () => 'b' });
      });
    });
    expect(catalog.routes().map((r) => `${r.method} ${r.url}`)).toEqual(['GET /a', 'POST /b/:id', 'PUT /b/:id']);
  });
});

describe('buildOpenApiDocument', () => {
  test('turns querystring, params and body schemas into parameters and a request body', async () => {
    const catalog = await catalogOf((app) => {
      app.get(
        '/things/:id',
        {
          schema: {
            params: { type: 'object', properties: { id: { type: 'integer', description: 'Thing id' } } },
            querystring: { type: 'object', required: ['view'], properties: { view: { type: 'string', enum: ['short', 'long'] }, limit: { type: 'integer' } } },
          },
        },
        async () => 'x',
      );
      app.post('/things', { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } }, async () => 'y');
    });
    const document = buildOpenApiDocument(catalog.routes(), info, { 'POST /things': { summary: 'Make a thing', successStatus: 201 } });

    expect(document).toMatchObject({ openapi: '3.1.0', info });
    const get = document.paths['/things/{id}']!.get!;
    expect(get.parameters).toEqual([
      { name: 'id', in: 'path', required: true, description: 'Thing id', schema: { type: 'integer' } },
      { name: 'view', in: 'query', required: true, schema: { type: 'string', enum: ['short', 'long'] } },
      { name: 'limit', in: 'query', required: false, schema: { type: 'integer' } },
    ]);
    expect(get.responses).toEqual({
      '200': expect.objectContaining({ content: { 'application/json': { schema: { $ref: '#/components/schemas/Success' } } } }),
      default: { $ref: '#/components/responses/Failure' },
    });

    const post = document.paths['/things']!.post!;
    expect(post.summary).toBe('Make a thing');
    expect(post.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
    });
    expect(Object.keys(post.responses)).toEqual(['201', 'default']);
    expect(new Set([get.operationId, post.operationId]).size).toBe(2);
  });

  test('an anyOf of required lists becomes a note, since parameters cannot express it', async () => {
    const catalog = await catalogOf((app) => {
      app.get(
        '/pick',
        { schema: { querystring: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, anyOf: [{ required: ['a'] }, { required: ['b'] }] } } },
        async () => 'x',
      );
    });
    const operation = buildOpenApiDocument(catalog.routes(), info).paths['/pick']!.get!;
    expect(operation.parameters!.map((p) => [p.name, p.required])).toEqual([
      ['a', false],
      ['b', false],
    ]);
    expect(operation.description).toBe('The query string must have one of `a`, `b`.');
  });

  test('declared responses and documentation fields of a schema win over the defaults', async () => {
    const catalog = await catalogOf((app) => {
      app.get(
        '/x',
        { schema: { response: { 200: { description: 'The x', type: 'object', properties: { x: { type: 'integer' } } } }, summary: 'Get x', tags: ['letters'] } as object },
        async () => ({ x: 1 }),
      );
    });
    const operation = buildOpenApiDocument(catalog.routes(), info, { 'GET /x': { summary: 'ignored' } }).paths['/x']!.get!;
    expect(operation.summary).toBe('Get x');
    expect(operation.tags).toEqual(['letters']);
    expect(operation.responses['200']).toEqual({
      description: 'The x',
      content: { 'application/json': { schema: { type: 'object', properties: { x: { type: 'integer' } } } } },
    });
  });

  test('a route that needs the admin token says so with a bearer security requirement', async () => {
    const catalog = await catalogOf((app) => {
      app.post('/admin/x', async () => 'x');
      app.get('/open', async () => 'y');
    });
    const document = buildOpenApiDocument(catalog.routes(), info, { 'POST /admin/x': { summary: 'X', adminToken: true } });
    expect(document.paths['/admin/x']!.post!.security).toEqual([{ adminToken: [] }]);
    expect(document.paths['/open']!.get!.security).toBeUndefined();
    expect(document.components.securitySchemes.adminToken).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
  });

  test('path patterns become OpenAPI templates', () => {
    expect(openApiPath('/a/:id/b/:name(^\\d+)')).toBe('/a/{id}/b/{name}');
    expect(openApiPath('/files/*')).toBe('/files/{wildcard}');
  });
});
