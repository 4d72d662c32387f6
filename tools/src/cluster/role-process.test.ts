import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
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

/** A role that serves /readyz on `port` and, unless told to ignore it, exits 0 on SIGTERM. */
function servingRole(name: string, port: number, onSigterm: 'exit' | 'ignore'): string {
  const script = join(dir, `${name}.js`);
  writeFileSync(
    script,
    `require('node:http').createServer((req, res) => res.end('ok')).listen(${port}, '127.0.0.1');
     process.on('SIGTERM', () => { ${onSigterm === 'exit' ? "process.stdout.write('stopping\\n'); process.exit(0);" : ''} });`,
  );
  return script;
}

function lastLogLine(name: string): string | undefined {
  return readFileSync(join(dir, 'logs', `${name}.log`), 'utf8').trimEnd().split('\n').at(-1);
}

test('a role frozen by SIGSTOP still stops gracefully: the SIGTERM is followed by SIGCONT', async () => {
  const port = await freePort();
  const role = new RoleProcess({ role: 'broker', id: 1, script: servingRole('frozen', port, 'exit'), url: `http://127.0.0.1:${port}`, env: {}, logDir: join(dir, 'logs') });
  await role.start(10_000);
  await role.kill('SIGSTOP');
  expect(await role.stop(5_000)).toBe('stopped');
  // stop() resolves once the log is written out: its last line is there at once.
  expect(lastLogLine('broker-1')).toMatch(/^\[partq\] broker-1 \(pid \d+\) exited: code 0$/);
});

test('a role that ignores SIGTERM is killed after the grace period, and stop says so', async () => {
  const port = await freePort();
  const role = new RoleProcess({ role: 'gateway', id: 1, script: servingRole('stubborn', port, 'ignore'), url: `http://127.0.0.1:${port}`, env: {}, logDir: join(dir, 'logs') });
  await role.start(10_000);
  expect(await role.stop(300)).toBe('killed');
  expect(lastLogLine('gateway-1')).toMatch(/^\[partq\] gateway-1 \(pid \d+\) exited: signal SIGKILL$/);
});
