import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { runCli } from './cli.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function partq(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  stdout.on('data', (c: Buffer) => chunks.stdout.push(c));
  stderr.on('data', (c: Buffer) => chunks.stderr.push(c));
  const code = await runCli(argv, { stdin: new PassThrough(), stdout, stderr, env, signal: new AbortController().signal });
  return { code, stdout: Buffer.concat(chunks.stdout).toString(), stderr: Buffer.concat(chunks.stderr).toString() };
}

/** A port nothing listens on. */
async function deadUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('help and version', () => {
  it('prints the command list on --help (exit 0) and on no command (stderr, exit 2)', async () => {
    const help = await partq(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['topics list', 'topics create <name>', 'produce <topic>', 'consume <topic>', 'size <topic>', 'brokers', 'health']) {
      expect(help.stdout).toContain(command);
    }
    const bare = await partq([]);
    expect(bare).toMatchObject({ code: 2, stdout: '' });
    expect(bare.stderr).toContain('Usage: partq <command>');
  });

  it('prints a command help with its options', async () => {
    for (const argv of [['consume', '--help'], ['help', 'consume'], ['consume', 'orders', '-h']]) {
      const run = await partq(argv);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Usage: partq consume <topic> [options]');
      expect(run.stdout).toContain('--follow');
    }
  });

  it('prints the version', async () => {
    expect(await partq(['--version'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });
});

describe('usage errors exit 2 and say what is wrong', () => {
  it.each([
    [['nonsense'], 'unknown command "nonsense"'],
    [['topics'], 'topics needs a subcommand: list, create'],
    [['topics', 'delete', 'x'], 'topics has no "delete"; it takes a subcommand: list, create'],
    [['produce'], 'missing <topic>'],
    [['size', 'a', 'b'], 'unexpected argument "b"'],
    [['topics', 'list', '--follow'], '--follow is not an option of "topics list"'],
    [['consume', 't', '--from', 'middle'], '--from must be "earliest" or "latest"'],
    [['topics', 'create', 't', '--partitions', '0'], '--partitions must be an integer from 1 to 1024'],
    [['topics', 'create', 't', '--retention-ms', '0'], '--retention-ms must be an integer from 1 up'],
    [['topics', 'create', 't', '--retention-bytes', '1e9'], '--retention-bytes must be an integer from 1 up'],
    [['brokers', '--url', 'nowhere'], '"nowhere" is not a URL'],
    [['brokers', '--bogus'], "Unknown option '--bogus'"],
  ])('partq %j', async (argv, message) => {
    const run = await partq(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`partq: ${message}`);
    expect(run.stdout).toBe('');
  });
});

describe('failures exit 1', () => {
  it('when the gateway cannot be reached, through the clients and through REST', async () => {
    const url = await deadUrl();
    for (const argv of [['topics', 'list'], ['brokers'], ['size', 't']]) {
      const run = await partq([...argv, '--url', url, '--timeout', '200']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^partq: .*ECONNREFUSED/);
    }
  });

  it('when the input file cannot be read', async () => {
    const run = await partq(['produce', 't', '--file', '/nonexistent/partq-input', '--url', await deadUrl(), '--timeout', '200']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot read /nonexistent/partq-input');
  });

  it('reads PARTQ_URL', async () => {
    const url = await deadUrl();
    const run = await partq(['brokers', '--timeout', '200'], { PARTQ_URL: url });
    expect(run.stderr).toContain(url);
  });
});
