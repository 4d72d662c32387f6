import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BenchError } from './bench-error.js';

export interface BareFastify {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bare-fastify-server.js (compiled beside this file) as a child process. */
export async function startBareFastify(): Promise<BareFastify> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'bare-fastify-server.js')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new BenchError('SETUP_FAILED', 'bare Fastify did not start within 10 s')), 10_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchError('SETUP_FAILED', `bare Fastify exited early (${code})`));
    });
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
