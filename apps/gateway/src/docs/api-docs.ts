import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { renderDocsPage } from './docs-page.js';
import { buildOpenApiDocument, type OpenApiDocument, type OpenApiInfo } from './openapi-document.js';
import { REST_ROUTE_NOTES } from './rest-route-notes.js';
import { HIDDEN_FROM_DOCS, RouteCatalog } from './route-catalog.js';

export const OPENAPI_JSON_PATH = '/docs/openapi.json';
export const DOCS_PAGE_PATH = '/docs';

const DEFAULT_INFO: Omit<OpenApiInfo, 'version'> = {
  title: 'partq gateway REST API',
  description:
    'Topics, producers and consumers of a partq cluster over JSON. The same operations are also served as the Connect ' +
    'services partq.v1.ProducerService and partq.v1.ConsumerService on the same port.',
};

/**
 * Serves the API reference: GET /docs/openapi.json (OpenAPI 3.1) and GET /docs (HTML), generated
 * from the schemas of every route registered on `app` after this call. Call it before registering
 * the REST API; the document is built on the first request, when every route is known.
 */
export function registerApiDocs(app: FastifyInstance, info: Partial<OpenApiInfo> = {}): void {
  const catalog = new RouteCatalog();
  catalog.watch(app);
  let document: OpenApiDocument | undefined;
  const current = (): OpenApiDocument =>
    (document ??= buildOpenApiDocument(catalog.routes(), { ...DEFAULT_INFO, version: gatewayVersion(), ...info }, REST_ROUTE_NOTES));

  app.get(OPENAPI_JSON_PATH, { config: HIDDEN_FROM_DOCS }, async () => current());
  app.get(DOCS_PAGE_PATH, { config: HIDDEN_FROM_DOCS }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(renderDocsPage(current(), OPENAPI_JSON_PATH)),
  );
}

/** The version in the gateway's package.json (next to src/ and dist/ alike). */
function gatewayVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
