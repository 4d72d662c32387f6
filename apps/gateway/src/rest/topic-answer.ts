import { Acks, type Topic } from '@partq/proto';
import { integerField, objectSchema, stringField } from './schemas.js';

/** A topic's settings, as the answers describe it. */
export const topicSchema = objectSchema({
  name: stringField,
  partitions: integerField,
  default_acks: { type: 'string', enum: ['broker', 'all'] },
  retention_ms: { type: ['integer', 'null'], description: 'Records older than this many ms are deleted, consumed or not; null: no time limit' },
  retention_bytes: { type: ['integer', 'null'], description: 'A partition keeps at most this many bytes of records, consumed or not; null: no size limit' },
});

export function topicAnswer(topic: Topic) {
  return {
    name: topic.name,
    partitions: topic.partitionCount,
    default_acks: topic.defaultAcks === Acks.ALL ? 'all' : 'broker',
    retention_ms: topic.retentionMs === undefined ? null : Number(topic.retentionMs),
    retention_bytes: topic.retentionBytes === undefined ? null : Number(topic.retentionBytes),
  };
}

/** A topic limit in a request: a positive whole number JavaScript holds exactly. */
export function retentionLimitSchema(description: string, options: { nullable?: boolean } = {}) {
  return { type: options.nullable ? ['integer', 'null'] : 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description };
}
