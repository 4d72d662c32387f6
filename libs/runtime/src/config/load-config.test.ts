import { ConfigError, HelpRequested } from './config-error.js';
import { loadConfig } from './load-config.js';
import { defineConfig, describeConfig } from './spec.js';

const spec = defineConfig({
  host: { env: 'PARTQ_HOST', type: 'string', default: '127.0.0.1', description: 'Address to listen on' },
  port: { env: 'PARTQ_PORT', type: 'integer', default: 7400, min: 0, max: 65535, description: 'Port to listen on' },
  ratio: { env: 'PARTQ_RATIO', type: 'number', default: 0.5, description: 'A fraction' },
  databaseUrl: { env: 'DATABASE_URL', type: 'url', required: true, description: 'PostgreSQL connection string' },
  fsync: { env: 'PARTQ_FSYNC', type: 'boolean', default: true, description: 'fsync the WAL' },
  brokers: { env: 'PARTQ_BROKERS', type: 'list', default: [], description: 'Broker URLs' },
  syncInterval: { env: 'PARTQ_SYNC_INTERVAL', type: 'duration', default: '5s', max: 600_000, description: 'Sync interval' },
  acks: { env: 'PARTQ_ACKS', flag: 'acks-mode', type: 'string', choices: ['broker', 'all'], default: 'broker', description: 'Ack mode' },
  dataDir: { type: 'string', description: 'WAL directory' },
});

const required = { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills defaults and infers the types', () => {
    const cfg = loadConfig(spec, { argv: [], env: required });
    // Type-level checks: these assignments only compile with the inferred types.
    const port: number = cfg.port;
    const fsync: boolean = cfg.fsync;
    const brokers: string[] = cfg.brokers;
    const acks: 'broker' | 'all' = cfg.acks;
    const dataDir: string | undefined = cfg.dataDir;
    // @ts-expect-error an option with neither default nor `required` may be undefined
    const notAlwaysSet: string = cfg.dataDir;
    void notAlwaysSet;

    expect({ port, fsync, brokers, acks, dataDir }).toEqual({ port: 7400, fsync: true, brokers: [], acks: 'broker', dataDir: undefined });
    expect(cfg.host).toBe('127.0.0.1');
    expect(cfg.ratio).toBe(0.5);
    expect(cfg.syncInterval).toBe(5000);
    expect(cfg.databaseUrl).toBe(required.DATABASE_URL);
  });

  it('lets the environment override defaults and flags override the environment', () => {
    const env = { ...required, PARTQ_PORT: '8000', PARTQ_HOST: '0.0.0.0' };
    expect(loadConfig(spec, { argv: [], env }).port).toBe(8000);
    const cfg = loadConfig(spec, { argv: ['--port=9000'], env });
    expect(cfg.port).toBe(9000);
    expect(cfg.host).toBe('0.0.0.0');
  });

  it('accepts --flag value, --flag=value, kebab-case and explicit flag names', () => {
    const cfg = loadConfig(spec, {
      argv: ['--port', '9001', '--data-dir=/var/lib/partq', '--acks-mode', 'all', '--database-url', 'postgres://x@h/db'],
      env: {},
    });
    expect(cfg.port).toBe(9001);
    expect(cfg.dataDir).toBe('/var/lib/partq');
    expect(cfg.acks).toBe('all');
    expect(cfg.databaseUrl).toBe('postgres://x@h/db');
  });

  it('reads booleans as --flag, --no-flag, --flag=false and from words in the environment', () => {
    expect(loadConfig(spec, { argv: ['--no-fsync'], env: required }).fsync).toBe(false);
    expect(loadConfig(spec, { argv: ['--fsync'], env: { ...required, PARTQ_FSYNC: 'off' } }).fsync).toBe(true);
    expect(loadConfig(spec, { argv: ['--fsync=false'], env: required }).fsync).toBe(false);
    expect(loadConfig(spec, { argv: [], env: { ...required, PARTQ_FSYNC: 'no' } }).fsync).toBe(false);
    // A boolean flag does not swallow the next argument.
    expect(loadConfig(spec, { argv: ['--fsync', '--port', '1'], env: required }).port).toBe(1);
  });

  it('splits lists on commas and collects repeated flags', () => {
    expect(loadConfig(spec, { argv: [], env: { ...required, PARTQ_BROKERS: 'http://a:1, http://b:2,' } }).brokers).toEqual([
      'http://a:1',
      'http://b:2',
    ]);
    expect(loadConfig(spec, { argv: ['--brokers', 'a,b', '--brokers=c'], env: required }).brokers).toEqual(['a', 'b', 'c']);
  });

  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['2m', 120_000],
    ['1.5s', 1500],
    ['250', 250],
    ['0.005d', 432_000],
  ])('reads the duration %j as %i ms', (text, ms) => {
    expect(loadConfig(spec, { argv: [`--sync-interval=${text}`], env: required }).syncInterval).toBe(ms);
  });

  it('treats an empty environment variable as unset', () => {
    expect(loadConfig(spec, { argv: [], env: { ...required, PARTQ_PORT: '' } }).port).toBe(7400);
  });

  it('names the option and the environment variable of an invalid value', () => {
    const err = configError(() => loadConfig(spec, { argv: [], env: { ...required, PARTQ_PORT: 'eighty' } }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('port');
    expect(err.message).toContain('PARTQ_PORT');
  });

  it('names the flag of an invalid value', () => {
    const err = configError(() => loadConfig(spec, { argv: ['--sync-interval', 'soon'], env: required }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('--sync-interval');
  });

  it.each([
    [['--port=70000'], 'above the maximum'],
    [['--port=1.5'], 'not an integer'],
    [['--sync-interval=2h'], 'above the maximum'],
    [['--acks-mode=some'], 'not one of broker, all'],
    [['--database-url=not a url'], 'not an absolute URL'],
    [['--fsync=maybe'], 'not a boolean'],
    [['--port'], 'needs a value'],
    [['--port', '--fsync'], 'needs a value'],
  ])('rejects %j', (argv, reason) => {
    const err = configError(() => loadConfig(spec, { argv, env: required }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain(reason);
  });

  it('rejects unknown flags and stray arguments', () => {
    expect(configError(() => loadConfig(spec, { argv: ['--prot=1'], env: required })).code).toBe('UNKNOWN_FLAG');
    expect(configError(() => loadConfig(spec, { argv: ['--no-port'], env: required })).code).toBe('UNKNOWN_FLAG');
    expect(configError(() => loadConfig(spec, { argv: ['serve'], env: required })).code).toBe('UNKNOWN_FLAG');
  });

  it('reports a missing required option with both ways to set it', () => {
    const err = configError(() => loadConfig(spec, { argv: [], env: {} }));
    expect(err.code).toBe('MISSING_REQUIRED');
    expect(err.message).toContain('DATABASE_URL');
    expect(err.message).toContain('--database-url');
  });

  it('checks defaults against the same rules', () => {
    const bad = defineConfig({ limit: { type: 'integer', default: 5, max: 3, description: 'x' } });
    const err = configError(() => loadConfig(bad, { argv: [], env: {} }));
    expect(err.message).toContain('limit (default)');
  });

  it('accepts a negative number as a flag value', () => {
    const signed = defineConfig({ offset: { type: 'integer', default: 0, description: 'x' } });
    expect(loadConfig(signed, { argv: ['--offset', '-5'], env: {} }).offset).toBe(-5);
  });

  it('throws HelpRequested with every option described, even when the rest is invalid', () => {
    let help: HelpRequested | undefined;
    try {
      loadConfig(spec, { argv: ['--port=bad', '--help'], env: {}, programName: 'partq-broker' });
    } catch (e) {
      if (e instanceof HelpRequested) help = e;
    }
    expect(help?.code).toBe('HELP_REQUESTED');
    const text = help!.text;
    expect(text).toContain('Usage: partq-broker [options]');
    for (const needle of ['--port <integer>', 'env: PARTQ_PORT', 'default: 7400', 'range: 0..65535', 'Port to listen on']) {
      expect(text).toContain(needle);
    }
    expect(text).toContain('--fsync, --no-fsync');
    expect(text).toContain('--acks-mode <string>');
    expect(text).toContain('one of: broker, all');
    expect(text).toContain('env: DATABASE_URL   required');
    expect(text).toContain('--data-dir <string>');
    expect(text).toContain('default: 5s');
  });

  it('reads process.argv and process.env when not given', () => {
    const saved = { argv: process.argv, env: process.env.PARTQ_TEST_VALUE };
    process.argv = ['node', 'main.js', '--name=from-argv'];
    process.env.PARTQ_TEST_VALUE = 'from-env';
    try {
      const s = defineConfig({
        name: { type: 'string', description: 'x' },
        value: { env: 'PARTQ_TEST_VALUE', type: 'string', description: 'y' },
      });
      expect(loadConfig(s)).toEqual({ name: 'from-argv', value: 'from-env' });
    } finally {
      process.argv = saved.argv;
      if (saved.env === undefined) delete process.env.PARTQ_TEST_VALUE;
      else process.env.PARTQ_TEST_VALUE = saved.env;
    }
  });
});

describe('describeConfig', () => {
  it('lists the environment variables the spec reads, in order', () => {
    expect(describeConfig(spec)).toEqual([
      'PARTQ_HOST',
      'PARTQ_PORT',
      'PARTQ_RATIO',
      'DATABASE_URL',
      'PARTQ_FSYNC',
      'PARTQ_BROKERS',
      'PARTQ_SYNC_INTERVAL',
      'PARTQ_ACKS',
    ]);
  });
});
