import type { FastifyRequest } from 'fastify';
import { PartqError } from '@partq/runtime';

/** The part of JSON Schema this guard reads: types, nested properties and items, alternatives. */
interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  oneOf?: SchemaNode[];
}

/**
 * Fastify's validator coerces types (it must, for query strings), which would quietly turn a JSON
 * body's `"message": 123` into "123" or `"producer_id": "7"` into 7. The preValidation hook
 * refuses a body whose values do not already have their schema's JSON type, before coercion runs;
 * the schema validation that follows checks everything else (required fields, ranges, patterns).
 */
export function coercibleBodyTypeError(request: FastifyRequest): PartqError | undefined {
  const schema = request.routeOptions.schema?.body as SchemaNode | undefined;
  if (!schema || request.body === undefined) return undefined;
  const mismatch = typeMismatch(schema, request.body, 'body');
  return mismatch ? new PartqError('INVALID_ARGUMENT', mismatch) : undefined;
}

/** The first place where `value` does not have the JSON type `schema` asks for, as a message. */
export function typeMismatch(schema: SchemaNode, value: unknown, path: string): string | undefined {
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives && alternatives.length > 0) {
    const failures = alternatives.map((alternative) => typeMismatch(alternative, value, path));
    if (failures.every((failure) => failure !== undefined)) return failures[0];
  }
  if (schema.type !== undefined && !hasJsonTypes(value, schema.type)) return `${path} must be ${typeNames(schema.type)}`;
  if (schema.properties && isObject(value)) {
    for (const [name, property] of propertiesOf(schema.properties)) {
      if (!Object.hasOwn(value, name)) continue;
      const mismatch = typeMismatch(property, value[name], `${path}/${name}`);
      if (mismatch) return mismatch;
    }
  }
  if (schema.items && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const mismatch = typeMismatch(schema.items, value[i], `${path}/${i}`);
      if (mismatch) return mismatch;
    }
  }
  return undefined;
}

/** Each schema's properties as entries, made once: every REST body was checked against new arrays of them. */
const propertyEntries = new WeakMap<Record<string, SchemaNode>, [string, SchemaNode][]>();

function propertiesOf(properties: Record<string, SchemaNode>): [string, SchemaNode][] {
  let entries = propertyEntries.get(properties);
  if (entries === undefined) propertyEntries.set(properties, (entries = Object.entries(properties)));
  return entries;
}

/** One type or any of several (no array made per value for the usual single type). */
function hasJsonTypes(value: unknown, type: string | string[]): boolean {
  return typeof type === 'string' ? hasJsonType(value, type) : type.some((one) => hasJsonType(value, one));
}

function typeNames(type: string | string[]): string {
  return (typeof type === 'string' ? [type] : type).map(article).join(' or ');
}

function hasJsonType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    default:
      return true;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
