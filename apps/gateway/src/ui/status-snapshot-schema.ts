import { arrayOf, integerField, objectSchema, stringField, type FieldSchema } from '../rest/schemas.js';

/** A rate in messages/s: a fraction, not an integer. */
const rate = { type: 'number' } as const;
const rates = arrayOf(rate);
const nullableInteger = { type: ['integer', 'null'] } as const;

/** The JSON Schema of ClusterStatusSnapshot: GET /ui/api/status answers it (its serializer drops anything not listed here). */
export const statusSnapshotSchema: FieldSchema = objectSchema({
  generated_at_ms: integerField,
  gateway: objectSchema({ ready: { type: 'boolean' }, metadata_version: integerField }),
  rates: objectSchema({
    window_ms: integerField,
    sample_interval_ms: integerField,
    produce_rate: rate,
    consume_rate: rate,
    produce_series: rates,
    consume_series: rates,
  }),
  topics: arrayOf(
    objectSchema({
      name: stringField,
      partitions: arrayOf(
        objectSchema({
          partition_id: integerField,
          broker_id: integerField,
          epoch: integerField,
          start_offset: integerField,
          end_offset: integerField,
          high_watermark: integerField,
          stored_bytes: integerField,
        }),
      ),
      messages: integerField,
      retained: integerField,
      stored_bytes: integerField,
      retention_ms: { type: ['integer', 'null'] },
      retention_bytes: { type: ['integer', 'null'] },
      produce_rate: rate,
      consume_rate: rate,
      produce_series: rates,
      consume_series: rates,
    }),
  ),
  brokers: arrayOf(objectSchema({ broker_id: integerField, address: stringField, state: stringField, last_heartbeat_ms: integerField, partitions: integerField })),
  replicas: arrayOf(objectSchema({ replica_id: integerField, address: stringField, status: stringField, last_heartbeat_ms: integerField })),
  producers: arrayOf(objectSchema({ producer_id: integerField, topic: stringField, status: stringField, last_activity_ms: integerField })),
  consumers: arrayOf(
    objectSchema({
      consumer_id: integerField,
      topic: stringField,
      partition_id: nullableInteger,
      status: stringField,
      last_activity_ms: integerField,
      lag: nullableInteger,
    }),
  ),
  problems: arrayOf(stringField),
});
