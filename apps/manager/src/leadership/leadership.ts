import pg from 'pg';
import type { Logger } from 'pino';
import { sleep } from '@partq/runtime';

/** The advisory lock key all managers of one Central DB compete for ("partq" in ASCII). */
const LEADER_LOCK_KEY = 0x7061_7274_71;

export type StandbyReason = { kind: 'another-manager-active' } | { kind: 'database-unreachable'; error: unknown };

export interface Leadership {
  /** Releases the lock (closes its session). */
  release(): Promise<void>;
}

/**
 * Waits until this process holds the managers' PostgreSQL advisory lock: one active manager per
 * Central DB, the others wait as standbys. The lock lives as long as its session, so when the active
 * manager dies its connection closes and a standby's next try wins. `onLost` is called if the session
 * breaks while holding the lock: the manager must stop acting at once (another may take over).
 */
export async function acquireLeadership(options: {
  databaseUrl: string;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  signal: AbortSignal;
  onLost: (error: unknown) => void;
  /** Why this manager is not active yet: another one holds the lock, or PostgreSQL cannot be reached (with its error). */
  onWaiting?: (reason: StandbyReason) => void;
  retryMs?: number;
}): Promise<Leadership> {
  const retryMs = options.retryMs ?? 200;
  let announced = false;
  while (!options.signal.aborted) {
    const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'partq-manager-leadership' });
    client.on('error', () => undefined); // handled below / by `end`
    try {
      await client.connect();
      for (;;) {
        const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [LEADER_LOCK_KEY]);
        if (result.rows[0]?.locked) {
          let released = false;
          const lost = (error: unknown): void => {
            if (!released) options.onLost(error ?? new Error('leadership session ended'));
          };
          client.removeAllListeners('error');
          client.on('error', lost);
          client.on('end', () => lost(undefined));
          options.logger.info({}, 'this manager is now the active one');
          return {
            async release() {
              released = true;
              await client.end().catch(() => undefined);
            },
          };
        }
        options.onWaiting?.({ kind: 'another-manager-active' });
        if (!announced) {
          options.logger.info({}, 'another manager is active; waiting as a standby');
          announced = true;
        }
        await sleep(retryMs, options.signal);
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      if (options.signal.aborted) break;
      options.onWaiting?.({ kind: 'database-unreachable', error });
      options.logger.warn({ err: error }, 'cannot reach PostgreSQL for the manager lock; retrying');
      await sleep(1000, options.signal).catch(() => undefined);
    }
  }
  throw new Error('stopped while waiting to become the active manager');
}
