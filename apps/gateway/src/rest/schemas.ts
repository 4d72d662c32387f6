/** JSON Schema pieces shared by the REST routes. Ids and partitions are int32 on the wire. */
export const MAX_INT32 = 0x7fffffff;

export const idSchema = { type: 'integer', minimum: 0, maximum: MAX_INT32 } as const;
export const partitionIdSchema = { type: 'integer', minimum: 0, maximum: MAX_INT32 } as const;
/** Names are checked by the handlers so the message can state the naming rule. */
export const topicNameSchema = { type: 'string' } as const;
export const encodingSchema = { type: 'string', enum: ['utf8', 'base64'] } as const;
/** A client's id for one consume: a retry with the same id gets the same delivery again. */
export const requestIdSchema = { type: 'string', minLength: 1, maxLength: 128 } as const;

/**
 * A request's body or query string that has only the fields it names: any other is refused (400
 * INVALID_ARGUMENT) and nothing is written, where a misspelt `acks`, `partition_id` or
 * `retention_ms` would otherwise be ignored and the request done with the default.
 */
export function knownFieldsOnly<S extends { type: 'object'; properties: Readonly<Record<string, unknown>> }>(schema: S): S & { additionalProperties: false } {
  return { ...schema, additionalProperties: false };
}

/** The JSON Schema of one field of an answer. */
export type FieldSchema = Readonly<Record<string, unknown>>;

export const integerField = { type: 'integer' } as const;
export const stringField = { type: 'string' } as const;
/** ISO 8601, or null for "never". */
export const timeField = { type: ['string', 'null'], format: 'date-time' } as const;

/** An object whose fields are all present, but those named in `optional`. */
export function objectSchema(properties: Readonly<Record<string, FieldSchema>>, optional: readonly string[] = []): FieldSchema {
  return { type: 'object', required: Object.keys(properties).filter((name) => !optional.includes(name)), properties };
}

export function arrayOf(items: FieldSchema): FieldSchema {
  return { type: 'array', items };
}

/** `{"status": "success", ...fields}`: one form of a success answer. */
export function successBody(fields: Readonly<Record<string, FieldSchema>>, optional: readonly string[] = []): FieldSchema {
  return objectSchema({ status: { type: 'string', const: 'success' }, ...fields }, optional);
}

/**
 * A success answer as a route's response schema. Fastify serializes the route's answers with it,
 * so a field missing here never reaches the client, and a required one the handler forgot is a
 * 500, not a silently different API; the OpenAPI document shows it, with `description`, as the
 * answer of the route's success status.
 */
export function successSchema(description: string, fields: Readonly<Record<string, FieldSchema>>, optional: readonly string[] = []): FieldSchema {
  return { description, ...successBody(fields, optional) };
}
