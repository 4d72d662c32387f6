import type { Kysely, Migration } from 'kysely';

/**
 * The partition epoch each consumer position was last handed over under. When a dead broker's
 * partition moves, the manager sets it to the new epoch and moves positions past the high
 * watermark back to it (the new owner reuses those offsets); a replica may then advance a
 * position past the high watermark only with records read under that epoch or a later one, so a
 * delivery of records the dead broker took with it cannot land after the handover.
 */
export const positionEpochsMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('consumer_positions')
      .addColumn('epoch', 'integer', (column) => column.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('consumer_positions').dropColumn('epoch').execute();
  },
};
