import type { Database } from '@partq/schema';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { MetadataStore } from '../store/metadata-store.js';
import { applyOwnerChange } from '../store/owner-change.js';
import type { TransactionLog } from './transaction-log.js';

/**
 * recoverLogs: redo what the transaction log shows as started but not finished.
 * Every step checks the Central DB first, so replaying twice changes nothing more.
 * - create-topic: the topic row exists or the change is made again.
 * - change-owners: each owner change is applied unless the partition's epoch already moved past it.
 * - sync: nothing to redo in PostgreSQL (each partition's records and high watermark committed
 *   together or not at all, and the broker keeps its records until it hears a commit); the sync
 *   loop re-confirms high watermarks.
 * Must run before the manager loads its in-memory state.
 */
export async function recoverLogs(db: Kysely<Database>, txlog: TransactionLog, logger: Logger): Promise<number> {
  for (const { id, event } of txlog.pendingAtStart) {
    switch (event.kind) {
      case 'create-topic': {
        // Takes no name twice: a topic the change did create stays as it is.
        await new MetadataStore(db).createTopic({
          name: event.name,
          partitionCount: event.partitions,
          defaultAcks: event.acks,
          retentionMs: event.retentionMs ?? null,
          retentionBytes: event.retentionBytes ?? null,
          owners: event.owners,
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
