import type pg from 'pg';
import { createPool } from './connection.js';
import { PreparedStatement } from './prepared-statement.js';
import { createTestDatabase, type TestDatabase } from './provision.js';

jest.setTimeout(60_000);

let testDb: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  testDb = await createTestDatabase();
  pool = createPool(testDb.url, { max: 1 });
});

afterAll(async () => {
  await pool?.end();
  await testDb?.drop();
});

const SUM = new PreparedStatement<{ sum: number }, [a: number, b: number]>('partq_test_sum', 'SELECT ($1::int4 + $2::int4) AS sum');

test('runs with its parameters and is prepared once on the connection', async () => {
  expect((await SUM.run(pool, [2, 3])).rows).toEqual([{ sum: 5 }]);
  const client = await pool.connect();
  try {
    expect((await SUM.run(client, [4, 5])).rows).toEqual([{ sum: 9 }]);
    const { rows } = await client.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements');
    expect(rows).toEqual([{ name: 'partq_test_sum', statement: SUM.text }]);
  } finally {
    client.release();
  }
});

test('refuses a second statement under a name already taken, and allows the same one again', () => {
  expect(() => new PreparedStatement('partq_test_sum', 'SELECT 1')).toThrow(RangeError);
  expect(new PreparedStatement('partq_test_sum', SUM.text).name).toBe('partq_test_sum');
});
