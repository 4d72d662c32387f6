import { Code } from '@connectrpc/connect';
import { toConnectError } from '@partq/runtime';
import { useMigratedDatabase } from '../../test/migrated-database.js';

const testDb = useMigratedDatabase();

// What a manager's caller sees when PostgreSQL itself fails a statement. A backend terminated by
// an administrator gives the same class of SQLSTATE (57P) as a database shutting down or
// restarting, which a full disk for its WAL makes it do.
test('a statement that PostgreSQL itself cut off reaches the client as UNAVAILABLE, saying so', async () => {
  const client = await testDb.pool.connect();
  let failure: unknown;
  try {
    await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
  } catch (error) {
    failure = error;
  } finally {
    client.release(true);
  }
  expect(failure).toMatchObject({ code: '57P01' });
  const answer = toConnectError(failure);
  expect(answer.code).toBe(Code.Unavailable);
  expect(answer.rawMessage).toBe('the central database is shutting down or restarting');
});

test('a failed statement of the caller stays a generic INTERNAL', async () => {
  const failure = await testDb.pool.query('SELECT * FROM no_such_table').catch((error: unknown) => error);
  expect(failure).toMatchObject({ code: '42P01' });
  expect(toConnectError(failure).code).toBe(Code.Internal);
  expect(toConnectError(failure).rawMessage).toBe('internal error');
});
