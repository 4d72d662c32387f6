import type { Database } from '@partq/schema';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { applyOwnerChange } from '../store/owner-change.js';
import type { TransactionLog } from './transaction-log.js';

/**
 * recoverLogs: redo what the transaction log shows as started but not finished.
 * Every step checks the Central DB first, so replaying twice changes nothing more.
 * - create-topic: the topic row exists or the change is made again.
 * - change-owners: each owner change is applied unless the partition's epoch already moved past it.
 * - sync: nothing to redo in PostgreSQL (the transaction committed or not, atomically, and the
 *   broker keeps its records until it hears a commit); the sync loop re-confirms high watermarks.
 * Must run before the manager loads its in-memory state.
 */
export async function recoverLogs(db: Kysely<Database>, txlog: TransactionLog, logger: Logger): Promise<number> {
  for (const { id, event } of txlog.pendingAtStart) {
    switch (event.kind) {
      case 'create-topic': {
        await db.transaction().execute(async (tx) => {
          const existing = await tx.selectFrom('topics').select('id').where('name', '=', event.name).executeTakeFirst();
          if (existing) return;
          const topic = await tx
            .insertInto('topics')
            .values({ name: event.name, partition_count: event.partitions, default_acks: event.acks })
            .returning('id')
            .executeTakeFirstOrThrow();
          await tx
            .insertInto('partitions')
            .values(event.owners.map((brokerId, partitionId) => ({ topic_id: topic.id, partition_id: partitionId, broker_id: brokerId, epoch: brokerId === null ? 0 : 1 })))
            .execute();
        });
        break;
      }
      case 'change-owners': {
        for (const change of event.changes) {
          await db.transaction().execute((tx) => applyOwnerChange(tx, change));
        }
        break;
      }
      case 'sync':
        break;
    }
    await txlog.logSuccess(id);
    logger.info({ id, kind: event.kind }, 'replayed unfinished transaction');
  }
  return txlog.pendingAtStart.length;
}
