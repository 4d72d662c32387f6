import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurably } from '../durable-file.js';

const IDENTITY_FILE = 'broker.json';

/** The id the manager gave this broker, remembered in `<dataDir>/broker.json` so a restart rejoins as itself. */
export async function readBrokerId(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, IDENTITY_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const { brokerId } = JSON.parse(text) as { brokerId?: unknown };
  if (typeof brokerId !== 'number' || !Number.isSafeInteger(brokerId) || brokerId <= 0) {
    throw new Error(`malformed ${IDENTITY_FILE} in ${dataDir}`);
  }
  return brokerId;
}

export async function writeBrokerId(dataDir: string, brokerId: number): Promise<void> {
  await writeFileDurably(join(dataDir, IDENTITY_FILE), `${JSON.stringify({ brokerId })}\n`);
}
