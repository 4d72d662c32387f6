import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findFreePort } from './free-port.js';
import { createTestDatabase, resolveDatabaseUrl } from './provision.js';

jest.setTimeout(60_000);

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  test('gives every caller its own empty database, and drop removes it', async () => {
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    try {
      expect(first.url).not.toBe(second.url);
      const firstName = new URL(first.url).pathname.slice(1);
      expect(firstName).toMatch(/^partq_t_[0-9a-f]+$/);
      expect(await query(first.url, 'select current_database() as name')).toEqual([{ name: firstName }]);

      await query(first.url, 'create table only_here (id int)');
      const seen = await query<{ n: number }>(
        second.url,
        "select count(*)::int as n from information_schema.tables where table_name = 'only_here'",
      );
      expect(seen).toEqual([{ n: 0 }]);
    } finally {
      await second.drop();
    }

    // drop closes connections still open to the database.
    const lingering = new pg.Client({ connectionString: first.url });
    lingering.on('error', () => undefined);
    await lingering.connect();
    await first.drop();
    await first.drop(); // idempotent
    await expect(query(first.url, 'select 1')).rejects.toThrow(/does not exist|terminat/);
    await lingering.end().catch(() => undefined);
  });

  test('uses DATABASE_URL when set, else one embedded server shared by the whole test process', async () => {
    const first = await createTestDatabase();
    // A fresh copy of the modules, as the next test file in this process would get from jest.
    let isolated: typeof import('./provision.js') | undefined;
    jest.isolateModules(() => {
      isolated = require('./provision') as typeof import('./provision.js');
    });
    const second = await isolated!.createTestDatabase();
    try {
      const server = (url: string) => new URL(url).host;
      expect(server(second.url)).toBe(server(first.url));
      const fromEnv = process.env['DATABASE_URL'];
      if (fromEnv !== undefined && fromEnv !== '') {
        expect(server(first.url)).toBe(new URL(fromEnv).host);
      } else {
        const rows = await query<{ port: string }>(first.url, 'show port');
        expect(Number(rows[0]?.port)).toBe(Number(new URL(first.url).port));
      }
    } finally {
      await Promise.all([first.drop(), second.drop()]);
    }
  });
});

describe('resolveDatabaseUrl', () => {
  test('passes a given URL through without starting anything', async () => {
    const resolved = await resolveDatabaseUrl({
      databaseUrl: 'postgres://someone@db.example:5432/partq',
      dataDir: '/nonexistent',
      port: 1,
    });
    expect(resolved).toMatchObject({ url: 'postgres://someone@db.example:5432/partq', embedded: false });
    await resolved.stop();
  });

  test('starts an embedded PostgreSQL when no URL is given', async () => {
    const root = await mkdtemp(join(tmpdir(), 'partq-provision-test-'));
    await chmod(root, 0o755);
    try {
      const resolved = await resolveDatabaseUrl({ dataDir: join(root, 'pg'), port: await findFreePort() });
      try {
        expect(resolved.embedded).toBe(true);
        expect(await query(resolved.url, 'select current_database() as name')).toEqual([{ name: 'partq' }]);
      } finally {
        await resolved.stop();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
