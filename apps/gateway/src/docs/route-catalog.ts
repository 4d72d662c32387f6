import type { FastifyInstance, RouteOptions } from 'fastify';

/** A route as the OpenAPI generator sees it: one method, the URL pattern, the schemas it declared. */
export interface CatalogRoute {
  method: string;
  /** Fastify's pattern, e.g. /topics/partitions or /items/:id. */
  url: string;
  schema: RouteSchemas;
}

/** The parts of a Fastify route schema that describe the HTTP contract (JSON Schema each). */
export interface RouteSchemas {
  querystring?: unknown;
  params?: unknown;
  headers?: unknown;
  body?: unknown;
  response?: unknown;
  /** Optional documentation fields a route may carry in its schema (the @fastify/swagger convention). */
  summary?: unknown;
  description?: unknown;
  tags?: unknown;
}

/** Route config that keeps a route out of the API documentation (the docs and status pages themselves). */
export const HIDDEN_FROM_DOCS = { docs: false } as const;

/**
 * Every route registered on `app` (and its child plugins) after `watch` was called. Fastify has no
 * public route listing, so an onRoute hook records them as they are declared; the automatic HEAD
 * twin of each GET is left out, as are routes whose config carries HIDDEN_FROM_DOCS.
 */
export class RouteCatalog {
  private readonly recorded: CatalogRoute[] = [];

  watch(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => this.record(route));
  }

  routes(): CatalogRoute[] {
    const gets = new Set(this.recorded.filter((r) => r.method === 'GET').map((r) => r.url));
    return this.recorded.filter((r) => !(r.method === 'HEAD' && gets.has(r.url)));
  }

  private record(route: RouteOptions): void {
    if ((route.config as { docs?: boolean } | undefined)?.docs === false) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as RouteSchemas;
    for (const method of methods) this.recorded.push({ method: method.toUpperCase(), url: route.url, schema });
  }
}
