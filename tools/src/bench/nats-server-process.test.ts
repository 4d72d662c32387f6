import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findNatsServer, flagValue } from './nats-server-process.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'partq-fake-proc-'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function fakeProcess(pid: number, comm: string, argv: string[]): void {
  mkdirSync(join(root, String(pid)));
  writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
  writeFileSync(join(root, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
}

test('flagValue reads "-p 4222", "--port=4222" and leaves absent flags undefined', () => {
  expect(flagValue(['nats-server', '-p', '4222', '-js'], '-p', '--port')).toBe('4222');
  expect(flagValue(['nats-server', '--port=4333'], '-p', '--port')).toBe('4333');
  expect(flagValue(['nats-server', '-js'], '-p', '--port')).toBeUndefined();
  expect(flagValue(['nats-server', '-ms', '8222'], '-m')).toBeUndefined();
});

test('the only nats-server is found with its command line, other processes are ignored', () => {
  fakeProcess(100, 'node', ['node', 'nats-server']);
  fakeProcess(2947, 'nats-server', ['/usr/sbin/nats-server', '-a', '127.0.0.1', '-js']);
  expect(findNatsServer(4222, root)).toEqual({ pid: 2947, argv: ['/usr/sbin/nats-server', '-a', '127.0.0.1', '-js'] });
});

test('a server whose command line names another port is not the one', () => {
  fakeProcess(300, 'nats-server', ['nats-server', '-p', '5222']);
  expect(findNatsServer(4222, root)).toBeUndefined();
  fakeProcess(301, 'nats-server', ['nats-server', '--port=4222']);
  expect(findNatsServer(4222, root)?.pid).toBe(301);
});

test('several servers: the one naming the port wins; if none does, none is chosen', () => {
  fakeProcess(400, 'nats-server', ['nats-server', '-c', '/etc/a.conf']);
  fakeProcess(401, 'nats-server', ['nats-server', '-c', '/etc/b.conf']);
  expect(findNatsServer(4222, root)).toBeUndefined();
  fakeProcess(402, 'nats-server', ['nats-server', '-p', '4222']);
  expect(findNatsServer(4222, root)?.pid).toBe(402);
});

test('no nats-server, or no proc root at all, finds nothing', () => {
  fakeProcess(500, 'postgres', ['postgres']);
  expect(findNatsServer(4222, root)).toBeUndefined();
  expect(findNatsServer(4222, join(root, 'missing'))).toBeUndefined();
});
