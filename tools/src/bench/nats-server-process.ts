import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A nats-server process of this machine and the arguments it was started with. */
export interface NatsServerProcess {
  pid: number;
  argv: string[];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // exited meanwhile, or not ours to read
  }
}

/** The value of `flag` in argv (`-p 4222`, `--port 4222`, `--port=4222`, `-p=4222`), if given. */
export function flagValue(argv: readonly string[], ...flags: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    for (const flag of flags) {
      if (arg === flag) return argv[i + 1];
      if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
    }
  }
  return undefined;
}

/**
 * Finds the nats-server listening on `port` by scanning `<procRoot>/<pid>/comm`. Servers whose
 * command line names another port are not it; of the rest, the only one, or else the only one
 * that names this port. Undefined when none fits or several cannot be told apart (its CPU is then
 * not reported).
 */
export function findNatsServer(port: number, procRoot = '/proc'): NatsServerProcess | undefined {
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return undefined; // no /proc: not Linux
  }
  const servers: NatsServerProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (readText(join(procRoot, entry, 'comm'))?.trim() !== 'nats-server') continue;
    const cmdline = readText(join(procRoot, entry, 'cmdline')) ?? '';
    servers.push({ pid: Number(entry), argv: cmdline.split('\0').filter((arg) => arg.length > 0) });
  }
  const portOf = (s: NatsServerProcess): string | undefined => flagValue(s.argv, '-p', '--port');
  const possible = servers.filter((s) => portOf(s) === undefined || portOf(s) === String(port));
  if (possible.length === 1) return possible[0];
  const named = possible.filter((s) => portOf(s) === String(port));
  return named.length === 1 ? named[0] : undefined;
}
