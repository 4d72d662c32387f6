import { getJson } from '../gateway-rest.js';
import type { CommandContext } from './command.js';

/** Prints a REST resource of the gateway as indented JSON. */
export async function printResource({ gateway, io, out }: CommandContext, path: string, query: Record<string, string> = {}): Promise<void> {
  const answer = await getJson(gateway.urls[0]!, path, query, { signal: io.signal, timeoutMs: gateway.timeoutMs });
  await out.line(JSON.stringify(answer, null, 2));
}
