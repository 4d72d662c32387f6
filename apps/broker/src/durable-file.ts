import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Replaces a small file atomically and durably: write a temporary file, fsync it, rename it over the
 * old one, fsync the directory. After a crash the file holds the old or the new contents, never a mix.
 */
export async function writeFileDurably(path: string, contents: string | Uint8Array): Promise<void> {
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(contents);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
