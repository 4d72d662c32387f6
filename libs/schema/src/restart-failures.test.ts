import { RestartFailures, isRefusedWhileStarting } from './restart-failures.js';

// What startEmbeddedPostgres threw on each try while the WAL's disk was full (recorded from a real
// cluster on a full tmpfs, timestamps and pids shortened).
const diskFull = (pid: number): Error =>
  new Error(
    [
      `PostgreSQL exited during start-up (exit 1): 2026-12-06 23:14:57.730 UTC [${pid}] LOG:  starting PostgreSQL 17.10`,
      `2026-12-06 23:14:57.799 UTC [${pid}] LOG:  database system was not properly shut down; automatic recovery in progress`,
      `2026-12-06 23:14:58.078 UTC [${pid + 1}] FATAL:  the database system is not yet accepting connections`,
      `2026-12-06 23:14:58.078 UTC [${pid + 1}] DETAIL:  Consistent recovery state has not been yet reached.`,
      `2026-12-06 23:14:58.295 UTC [${pid}] FATAL:  could not write to file "pg_wal/xlogtemp.${pid}": No space left on device`,
      `2026-12-06 23:14:58.312 UTC [${pid}] LOG:  shutting down due to startup process failure`,
    ].join('\n'),
  );

describe('RestartFailures', () => {
  test('says the whole failure once, then its cause every 30 s while it repeats, with a hint for a full disk', () => {
    let now = 0;
    const failures = new RestartFailures('/data/postgres', () => now);
    expect(failures.report(diskFull(100))).toMatch(/^embedded PostgreSQL failed to restart \(Error: PostgreSQL exited during start-up .*shutting down due to startup process failure\); trying again$/s);
    now = 2_000;
    expect(failures.report(diskFull(200))).toBeUndefined();
    now = 29_000;
    expect(failures.report(diskFull(300))).toBeUndefined();
    now = 31_000;
    expect(failures.report(diskFull(400))).toBe(
      'embedded PostgreSQL still cannot start: could not write to file "pg_wal/xlogtemp.400": No space left on device (its disk is full: free some space under /data/postgres); trying again every 2 s',
    );
    now = 33_000;
    expect(failures.report(diskFull(500))).toBeUndefined();
  });

  test('says a new cause in full at once', () => {
    let now = 0;
    const failures = new RestartFailures('/data/postgres', () => now);
    failures.report(diskFull(100));
    now = 1_000;
    expect(failures.report(new Error('PostgreSQL exited during start-up (exit 1): FATAL:  lock file "postmaster.pid" already exists'))).toMatch(
      /^embedded PostgreSQL failed to restart \(.*lock file "postmaster.pid" already exists\); trying again$/,
    );
  });
});

test('a connection refused while the server starts or stops is no failure of its own', () => {
  expect(isRefusedWhileStarting('2026-12-06 23:14:58.078 UTC [15649] FATAL:  the database system is not yet accepting connections')).toBe(true);
  expect(isRefusedWhileStarting('FATAL:  the database system is starting up')).toBe(true);
  expect(isRefusedWhileStarting('FATAL:  the database system is shutting down')).toBe(true);
  expect(isRefusedWhileStarting('FATAL:  could not write to file "pg_wal/xlogtemp.1": No space left on device')).toBe(false);
});
