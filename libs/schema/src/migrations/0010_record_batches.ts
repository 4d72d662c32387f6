import { sql, type Kysely, type Migration } from 'kysely';
import { SchemaError } from '../errors.js';
import { messagesMigration } from './0003_messages.js';
import { dropUnusedSequenceIndexMigration } from './0007_drop_unused_sequence_index.js';

/**
 * Committed records as runs of a broker's record batch (a partq.v1.RecordBatch's bytes, as the
 * broker stores and sends them), a row per run, instead of a row per record. A row costs
 * PostgreSQL and the manager ~3.6 us each whatever its size, which was a third of the cluster's
 * CPU for a 100 B message; Kafka stores record batches the same way.
 *
 * A run is at most RECORD_BATCH_ROW_BYTES of records, so that with `toast_tuple_target` at its
 * largest the row stays on its heap page: above the default (~2 KB) PostgreSQL would first try to
 * compress the bytes (payloads are mostly incompressible) and then cut them into ~2 KB TOAST
 * chunks, a row and an index entry each. STORAGE EXTERNAL skips compression for the rare record
 * larger than a page.
 *
 * Beside each run go its producer sequences, as runs of their own (see RecordBatchesTable), so a
 * broker taking a partition over reads a few bytes per row instead of the records.
 *
 * Existing rows of `messages` become one-record runs, encoded here in SQL, so an upgrade keeps every
 * committed record.
 */
export const recordBatchesMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .createTable('record_batches')
      .addColumn('topic_id', 'integer', (col) => col.notNull())
      .addColumn('partition_id', 'integer', (col) => col.notNull())
      .addColumn('base_offset', 'bigint', (col) => col.notNull())
      .addColumn('next_offset', 'bigint', (col) => col.notNull())
      .addColumn('records', 'bytea', (col) => col.notNull())
      .addColumn('sequences', 'bytea', (col) => col.notNull())
      .addPrimaryKeyConstraint('record_batches_pkey', ['topic_id', 'partition_id', 'base_offset'])
      .addCheckConstraint('record_batches_offsets', sql`base_offset >= 0 AND next_offset > base_offset`)
      .execute();
    await sql`ALTER TABLE record_batches ALTER COLUMN records SET STORAGE EXTERNAL`.execute(db);
    await sql`ALTER TABLE record_batches SET (toast_tuple_target = 8160)`.execute(db);

    // A protobuf varint of a non-negative bigint, for the conversion below only.
    await sql`
      CREATE FUNCTION partq_0010_varint(value bigint) RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT AS $$
      DECLARE
        out bytea := ''::bytea;
      BEGIN
        LOOP
          IF value < 128 THEN
            RETURN out || set_byte('\\x00'::bytea, 0, value::int);
          END IF;
          out := out || set_byte('\\x00'::bytea, 0, ((value & 127) | 128)::int);
          value := value >> 7;
        END LOOP;
      END
      $$`.execute(db);
    // Each message as a RecordBatch of one Record: offset (1), payload (2), key (3), producer_id (4),
    // sequence (5), timestamp_ms (6), each field's tag byte then its value.
    await sql`
      INSERT INTO record_batches (topic_id, partition_id, base_offset, next_offset, records, sequences)
      SELECT topic_id, partition_id, "offset", "offset" + 1,
             '\\x0a'::bytea || partq_0010_varint(length(record)) || record,
             CASE WHEN sequence IS NULL THEN ''::bytea
                  ELSE int4send(producer_id) || int8send(sequence) || int8send("offset") || int4send(1) END
      FROM (
        SELECT topic_id, partition_id, "offset", producer_id, sequence,
               '\\x08'::bytea || partq_0010_varint("offset")
               || '\\x12'::bytea || partq_0010_varint(length(payload)) || payload
               || CASE WHEN key IS NULL THEN ''::bytea ELSE '\\x1a'::bytea || partq_0010_varint(length(key)) || key END
               || CASE WHEN producer_id IS NULL THEN ''::bytea ELSE '\\x20'::bytea || partq_0010_varint(producer_id) END
               || CASE WHEN sequence IS NULL THEN ''::bytea ELSE '\\x28'::bytea || partq_0010_varint(sequence) END
               || '\\x30'::bytea || partq_0010_varint(floor(extract(epoch FROM appended_at) * 1000)::bigint)
               AS record
        FROM messages
      ) AS converted`.execute(db);
    await sql`DROP FUNCTION partq_0010_varint(bigint)`.execute(db);
    await db.schema.dropTable('messages').execute();
  },

  async down(db: Kysely<any>): Promise<void> {
    // Going back would need the batches decoded in SQL; refusing keeps committed records from being lost.
    const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM record_batches) AS any`.execute(db);
    if (rows[0]?.any) throw new SchemaError('MIGRATION_IRREVERSIBLE', '0010_record_batches cannot be undone while record_batches holds committed records');
    await db.schema.dropTable('record_batches').execute();
    // `messages` as 0003 made it and 0007 left it.
    await messagesMigration.up(db);
    await dropUnusedSequenceIndexMigration.up(db);
  },
};
