/** JSON Schema pieces shared by the REST routes. Ids and partitions are int32 on the wire. */
export const MAX_INT32 = 0x7fffffff;

export const idSchema = { type: 'integer', minimum: 0, maximum: MAX_INT32 } as const;
export const partitionIdSchema = { type: 'integer', minimum: 0, maximum: MAX_INT32 } as const;
/** Names are checked by the handlers so the message can state the naming rule. */
export const topicNameSchema = { type: 'string' } as const;
export const encodingSchema = { type: 'string', enum: ['utf8', 'base64'] } as const;
/** A client's id for one consume: a retry with the same id gets the same delivery again. */
export const requestIdSchema = { type: 'string', minLength: 1, maxLength: 128 } as const;
