/**
 * What a client is told when the Central DB (PostgreSQL) failed a request for reasons of its own:
 * its disk or memory ran out, it is restarting, or the connection to it broke. Such a failure is
 * UNAVAILABLE (the same request may succeed once the database recovers), and its message names the
 * cause, where any other database error stays a generic INTERNAL that shows no SQL.
 * Recognised by the SQLSTATE that `pg` puts on its DatabaseError (`code`, with a `severity`).
 */
export function describePostgresFailure(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    if (typeof severity === 'string' && typeof code === 'string' && code.length === 5) return messageFor(code);
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function messageFor(sqlState: string): string | undefined {
  switch (sqlState) {
    case '53100':
      return 'the central database is out of disk space';
    case '53200':
      return 'the central database is out of memory';
    case '53300':
      return 'the central database has too many connections';
    case '57P01':
    case '57P02':
    case '57P03':
      return 'the central database is shutting down or restarting';
  }
  if (sqlState.startsWith('53')) return 'the central database is out of resources';
  if (sqlState.startsWith('08')) return 'the connection to the central database failed';
  return undefined;
}
