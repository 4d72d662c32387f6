import { ERROR_CODES } from '@partq/runtime';
import type { CatalogRoute } from './route-catalog.js';
import type { RouteNote } from './rest-route-notes.js';

/** A JSON Schema (2020-12 superset of the draft-07 schemas Fastify routes declare). */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  content?: Record<string, { schema: JsonSchema }>;
}

export interface OpenApiOperation {
  operationId: string;
  summary?: string;
  description?: string;
  tags: string[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse | { $ref: string }>;
  security?: Record<string, string[]>[];
}

/** The subset of OpenAPI 3.1 this generator writes. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, OpenApiResponse>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/** Methods an OpenAPI path item may carry, in the order they are listed. */
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const FAILURE_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['status', 'code', 'message'],
  properties: {
    status: { const: 'failure' },
    code: { type: 'string', enum: [...ERROR_CODES], description: 'Stable error code' },
    message: { type: 'string', description: 'For humans; may change between versions' },
    details: { type: 'object', description: 'Structured context (the topic, the id...) when there is some' },
  },
};

const SUCCESS_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['status'],
  properties: { status: { const: 'success' } },
  additionalProperties: true,
};

/**
 * An OpenAPI 3.1 document of `routes`, from the JSON Schemas the routes declare: querystring,
 * params and headers become parameters, the body a JSON request body, declared responses their
 * responses. Every operation also answers the shared failure envelope.
 */
export function buildOpenApiDocument(routes: CatalogRoute[], info: OpenApiInfo, notes: Readonly<Record<string, RouteNote>> = {}): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const operationIds = new Set<string>();
  const sorted = [...routes].sort((a, b) => a.url.localeCompare(b.url) || methodRank(a.method) - methodRank(b.method));
  for (const route of sorted) {
    const method = route.method.toLowerCase();
    if (!(METHODS as readonly string[]).includes(method)) continue;
    const path = openApiPath(route.url);
    const item = (paths[path] ??= {});
    if (item[method]) continue;
    item[method] = operation(route, path, notes[`${route.method} ${route.url}`], operationIds);
  }
  return {
    openapi: '3.1.0',
    info: { ...info },
    paths,
    components: {
      schemas: { Success: SUCCESS_SCHEMA, Failure: FAILURE_SCHEMA },
      responses: {
        Failure: {
          description: 'A failure: `{"status": "failure", "code", "message"}` with the HTTP status of its code',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Failure' } } },
        },
      },
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: "The gateway's admin token" } },
    },
  };
}

/** Fastify's /items/:id (or :id(^\d+)) and * as OpenAPI's /items/{id} and {wildcard}. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}').replace(/\*/g, '{wildcard}');
}

function operation(route: CatalogRoute, path: string, note: RouteNote | undefined, operationIds: Set<string>): OpenApiOperation {
  const { schema } = route;
  const notes: string[] = [];
  const parameters = [
    ...parametersOf(schema.params, 'path', notes),
    ...parametersOf(schema.querystring, 'query', notes),
    ...parametersOf(schema.headers, 'header', notes),
  ];
  // Path parameters the schema does not describe still have to be listed.
  for (const match of path.matchAll(/\{([^}]+)\}/g)) {
    const name = match[1]!;
    if (!parameters.some((p) => p.in === 'path' && p.name === name)) parameters.unshift({ name, in: 'path', required: true, schema: { type: 'string' } });
  }

  const summary = typeof schema.summary === 'string' ? schema.summary : note?.summary;
  const description = [typeof schema.description === 'string' ? schema.description : note?.description, ...notes].filter(Boolean).join('\n\n');
  const tags = Array.isArray(schema.tags) && schema.tags.every((t) => typeof t === 'string') ? (schema.tags as string[]) : [tagOf(path)];

  const op: OpenApiOperation = { operationId: uniqueOperationId(route.method, path, operationIds), tags, responses: responsesOf(schema.response, note) };
  if (summary) op.summary = summary;
  if (note?.adminToken) op.security = [{ adminToken: [] }];
  if (description) op.description = description;
  if (parameters.length > 0) op.parameters = parameters;
  if (isObject(schema.body)) {
    op.requestBody = { required: true, content: { 'application/json': { schema: cloneSchema(schema.body) } } };
    const alternatives = requiredAlternatives(schema.body);
    if (alternatives) op.description = [op.description, `The body must have ${alternatives}.`].filter(Boolean).join('\n\n');
  }
  return op;
}

/** One parameter per property of an object schema; an anyOf of `required` lists becomes a note. */
function parametersOf(schema: unknown, location: OpenApiParameter['in'], notes: string[]): OpenApiParameter[] {
  if (!isObject(schema)) return [];
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as unknown[]) : []);
  const parameters = Object.entries(properties).map(([name, property]): OpenApiParameter => {
    const { description, ...rest } = isObject(property) ? cloneSchema(property) : {};
    const parameter: OpenApiParameter = { name, in: location, required: location === 'path' || required.has(name), schema: rest };
    if (typeof description === 'string') parameter.description = description;
    return parameter;
  });
  const alternatives = requiredAlternatives(schema);
  if (alternatives) notes.push(`The ${location === 'query' ? 'query string' : location} must have ${alternatives}.`);
  return parameters;
}

/** "one of `topic_name`, `topic`" for `anyOf: [{required: ['topic_name']}, {required: ['topic']}]`. */
function requiredAlternatives(schema: Record<string, unknown>): string | undefined {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(alternatives) || alternatives.length === 0) return undefined;
  const lists = alternatives.map((a) => (isObject(a) && Array.isArray(a.required) ? (a.required as unknown[]).map(String) : undefined));
  if (lists.some((list) => list === undefined)) return undefined;
  return `one of ${lists.map((list) => list!.map((name) => `\`${name}\``).join(' and ')).join(', ')}`;
}

function responsesOf(response: unknown, note: RouteNote | undefined): OpenApiOperation['responses'] {
  const responses: OpenApiOperation['responses'] = {};
  if (isObject(response)) {
    for (const [status, schema] of Object.entries(response)) {
      if (!isObject(schema)) continue;
      const { description, ...rest } = cloneSchema(schema);
      responses[status] = {
        description: typeof description === 'string' ? description : 'Success',
        content: { 'application/json': { schema: rest } },
      };
    }
  }
  if (!Object.keys(responses).some((status) => status.startsWith('2'))) {
    responses[String(note?.successStatus ?? 200)] = {
      description: 'Success: `{"status": "success", ...}`',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Success' } } },
    };
  }
  responses.default ??= { $ref: '#/components/responses/Failure' };
  return responses;
}

/** getTopicsPartitions for GET /topics/partitions; a suffix keeps ids unique. */
function uniqueOperationId(method: string, path: string, taken: Set<string>): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const base = method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}${n}`;
  taken.add(id);
  return id;
}

/** The first path segment names the resource: /producer/produce is under "producer". */
function tagOf(path: string): string {
  return path.split('/').find((segment) => segment !== '' && !segment.startsWith('{')) ?? 'root';
}

function methodRank(method: string): number {
  const rank = (METHODS as readonly string[]).indexOf(method.toLowerCase());
  return rank === -1 ? METHODS.length : rank;
}

/** Route schemas are shared, frozen `as const` objects: the document gets its own copy. */
function cloneSchema(schema: Record<string, unknown>): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
