import { open } from 'node:fs/promises';

/** Makes file creations and deletions in `dir` durable (a new segment must survive a crash by name too). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
