import { appendFile, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { findFreePort } from './free-port.js';
import type { Logger } from './logger.js';
import { startSupervisedPostgres, type SupervisedPostgres } from './supervised-postgres.js';

jest.setTimeout(90_000);

let root: string;
let supervised: SupervisedPostgres | undefined;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'partq-supervised-test-'));
  await chmod(root, 0o755); // PostgreSQL runs as another OS user when the tests run as root
});

afterAll(async () => {
  await supervised?.stop();
  await rm(root, { recursive: true, force: true });
});

const until = async (condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

test('restarts that keep failing say why once, not a FATAL line per attempt, and the server comes back once it can', async () => {
  const dataDir = join(root, 'data');
  const logged: { level: keyof Logger; message: string }[] = [];
  const logger: Logger = {
    debug: (message) => void logged.push({ level: 'debug', message }),
    info: (message) => void logged.push({ level: 'info', message }),
    warn: (message) => void logged.push({ level: 'warn', message }),
    error: (message) => void logged.push({ level: 'error', message }),
  };
  const events: string[] = [];
  supervised = await startSupervisedPostgres({ dataDir, port: await findFreePort(), durable: false, logger }, (message) => void events.push(message));

  // A setting PostgreSQL refuses to start with, as a broken configuration (or a full disk) does.
  const config = join(dataDir, 'postgresql.conf');
  const original = await readFile(config, 'utf8');
  await appendFile(config, "\nshared_buffers = 'not a size'\n");
  process.kill(supervised.pid!, 'SIGKILL');

  await until(() => events.some((event) => event.includes('failed to restart')), 'the first failed restart');
  const failedAt = events.length;
  const firstAttemptFatals = logged.filter((line) => /FATAL/.test(line.message)).length;
  // At least three more attempts (2 s apart at most).
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  const fatals = logged.filter((line) => /FATAL/.test(line.message));
  expect(fatals.length).toBeGreaterThan(firstAttemptFatals);
  expect(fatals.filter((line) => line.level === 'error')).toEqual([]);
  // The cause was said once, with what PostgreSQL said.
  expect(events.slice(failedAt - 1).filter((event) => event.includes('restart'))).toHaveLength(1);
  expect(events[failedAt - 1]).toMatch(/shared_buffers/);

  await writeFile(config, original);
  await until(() => events.some((event) => event.startsWith('embedded PostgreSQL restarted')), 'the restart');
  const client = new pg.Client({ connectionString: supervised.url });
  await client.connect();
  try {
    expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  } finally {
    await client.end();
  }
});
