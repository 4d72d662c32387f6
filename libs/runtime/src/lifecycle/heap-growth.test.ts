import { spawnSync } from 'node:child_process';
import { loadConfig } from '../config/load-config.js';
import { defineConfig } from '../config/spec.js';
import { ConfigError } from '../config/config-error.js';
import { applyHeapGrowth, heapGrowthOption } from './heap-growth.js';

/** Hands the flags to a fresh Node's V8, which reports one it does not know on its output. */
function v8Answer(flags: string): string {
  const child = spawnSync(process.execPath, ['-e', `require('node:v8').setFlagsFromString(${JSON.stringify(flags)})`], { encoding: 'utf8' });
  return `${child.stdout}${child.stderr}`;
}

describe('applyHeapGrowth', () => {
  it('gives V8 a flag this Node knows', () => {
    const given: string[] = [];
    applyHeapGrowth(300, (flags) => given.push(flags));
    expect(given).toEqual(['--heap-growing-percent=300']);
    expect(v8Answer(given[0]!)).toBe('');
    // The check above would see a misspelt flag:
    expect(v8Answer('--heap-growing-percentage=300')).toMatch(/unrecognized flag/);
  });

  it('leaves V8 alone at 0', () => {
    const given: string[] = [];
    applyHeapGrowth(0, (flags) => given.push(flags));
    expect(given).toEqual([]);
  });

  it('refuses a negative or fractional value', () => {
    expect(() => applyHeapGrowth(-1, () => undefined)).toThrow(RangeError);
    expect(() => applyHeapGrowth(1.5, () => undefined)).toThrow(RangeError);
  });
});

describe('heapGrowthOption', () => {
  const spec = defineConfig({ heapGrowthPercent: heapGrowthOption });

  it('defaults to 300 and reads PARTQ_HEAP_GROWTH_PERCENT and --heap-growth-percent', () => {
    expect(loadConfig(spec, { argv: [], env: {} }).heapGrowthPercent).toBe(300);
    expect(loadConfig(spec, { argv: [], env: { PARTQ_HEAP_GROWTH_PERCENT: '0' } }).heapGrowthPercent).toBe(0);
    expect(loadConfig(spec, { argv: ['--heap-growth-percent', '150'], env: { PARTQ_HEAP_GROWTH_PERCENT: '0' } }).heapGrowthPercent).toBe(150);
  });

  it('refuses values out of range with a config error', () => {
    expect(() => loadConfig(spec, { argv: [], env: { PARTQ_HEAP_GROWTH_PERCENT: '-5' } })).toThrow(ConfigError);
    expect(() => loadConfig(spec, { argv: [], env: { PARTQ_HEAP_GROWTH_PERCENT: 'lots' } })).toThrow(ConfigError);
    expect(() => loadConfig(spec, { argv: ['--heap-growth-percent', '5000'], env: {} })).toThrow(ConfigError);
  });
});
