import { loadConfigOrExit } from './load-config-or-exit.js';
import { defineConfig } from './spec.js';

const spec = defineConfig({ port: { env: 'PARTQ_PORT', type: 'integer', default: 1, description: 'Port' } });

class Exited extends Error {
  constructor(readonly exitCode: number | string | null | undefined) {
    super(`exit ${exitCode}`);
  }
}

describe('loadConfigOrExit', () => {
  let out: jest.SpyInstance;
  let err: jest.SpyInstance;
  beforeEach(() => {
    jest.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exited(code);
    });
    out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => jest.restoreAllMocks());

  it('returns the config when it is valid', () => {
    expect(loadConfigOrExit(spec, { argv: ['--port=5'], env: {} }).port).toBe(5);
  });

  it('prints help to stdout and exits 0', () => {
    expect(() => loadConfigOrExit(spec, { argv: ['-h'], env: {}, programName: 'partq-manager' })).toThrow(new Exited(0));
    expect(String(out.mock.calls[0]?.[0])).toContain('Usage: partq-manager');
  });

  it('prints the reason to stderr and exits 2', () => {
    expect(() => loadConfigOrExit(spec, { argv: [], env: { PARTQ_PORT: 'x' }, programName: 'partq-manager' })).toThrow(new Exited(2));
    expect(String(err.mock.calls[0]?.[0])).toMatch(/^partq-manager: invalid value for port \(env PARTQ_PORT\)/);
  });
});
