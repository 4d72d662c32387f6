import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoleProcess } from './role-process.js';

/*
 * A role that dies leaves its last words in its log: the crash message is what a post-mortem of a
 * fault test needs, and the log used to be closed when the process exited, before its last output
 * had been read.
 */

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'partq-role-process-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('the log keeps what a role wrote just before it died, and says how it ended', async () => {
  const script = join(dir, 'dies.js');
  // Enough output that some of it is still in the pipe when the process is gone.
  writeFileSync(
    script,
    `process.stdout.write('x'.repeat(200000) + '\\n'); process.stderr.write('last words before the crash\\n'); process.exit(3);`,
  );
  const role = new RoleProcess({ role: 'broker', id: 7, script, url: 'http://127.0.0.1:9', env: {}, logDir: join(dir, 'logs') });
  const exited = new Promise<number | null>((resolve) => role.onExit((code) => resolve(code)));
  await expect(role.start(5_000)).rejects.toThrow('exited before it was ready');
  expect(await exited).toBe(3);

  const logFile = join(dir, 'logs', 'broker-7.log');
  const deadline = Date.now() + 5_000;
  let log = '';
  while (Date.now() < deadline && !log.includes('exited: code 3')) {
    log = readFileSync(logFile, 'utf8');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(log).toContain('x'.repeat(200000));
  expect(log).toContain('last words before the crash');
  expect(log.trimEnd().split('\n').at(-1)).toMatch(/^\[partq\] broker-7 \(pid \d+\) exited: code 3$/);
});
