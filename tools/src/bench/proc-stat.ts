import { readdirSync, readFileSync } from 'node:fs';

/** Linux reports utime/stime in clock ticks of USER_HZ, which is 100 on every mainstream architecture. */
const MS_PER_TICK = 10;

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Executable name as the kernel knows it (`node`, `postgres`). */
  comm: string;
}

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself contain spaces and parentheses. */
function statFields(pid: number): { comm: string; rest: string[] } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited meanwhile
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  return { comm: text.slice(open + 1, close), rest: text.slice(close + 2).split(' ') };
}

/** User plus system CPU time a process has used so far, in ms; undefined once it is gone. */
export function processCpuMs(pid: number): number | undefined {
  const fields = statFields(pid);
  if (!fields) return undefined;
  // After the comm: state(0) ppid(1) ... utime(11) stime(12).
  return (Number(fields.rest[11]) + Number(fields.rest[12])) * MS_PER_TICK;
}

/** Resident set size in bytes (VmRSS), undefined once the process is gone. */
export function processRssBytes(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Every process this user can see, with its parent. */
export function listProcesses(): ProcessInfo[] {
  const processes: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = statFields(pid);
    if (fields) processes.push({ pid, ppid: Number(fields.rest[1]), comm: fields.comm });
  }
  return processes;
}

/** The pids below `root` in the process tree (children, grandchildren, ...), not `root` itself. */
export function descendantsOf(root: number, processes: readonly ProcessInfo[] = listProcesses()): number[] {
  const children = new Map<number, number[]>();
  for (const p of processes) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const found: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    found.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Whether /proc is there to read (Linux); elsewhere CPU and memory figures are left out. */
export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}
