import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Why a draining broker is draining: an operator asked (`operator`), or the manager drained it
 * because its disk filled up (`disk_full`). The manager puts the second kind back in service by
 * itself once its disk has room, and must still know which brokers those are after it restarts or
 * a standby takes over. Null while the broker is not draining.
 */
export const brokerDrainReasonMigration: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema
      .alterTable('brokers')
      .addColumn('drain_reason', 'text', (col) => col.check(sql`drain_reason IN ('operator', 'disk_full')`))
      .execute();
    // Drains from before this migration were all an operator's or kept until one resumed them.
    await sql`UPDATE brokers SET drain_reason = 'operator' WHERE state = 'draining'`.execute(db);
  },
  async down(db: Kysely<any>): Promise<void> {
    await db.schema.alterTable('brokers').dropColumn('drain_reason').execute();
  },
};
