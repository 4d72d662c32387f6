/**
 * `npm start`, `npm run bench` and `npm run soak` compile with `tsc -b --noCheck`: the same
 * emit as `npm run build` in about half the time (8 s against 13–16 s from a fresh clone), since
 * type-checking is `npm test`'s job. That leans on one behaviour of TypeScript's build mode: a
 * project emitted without its check is remembered as unchecked, so the next `tsc -b` checks it
 * instead of calling it up to date. These tests hold the scripts to that, and TypeScript too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

test('compile is the build without its type check, and what runs the cluster uses it', () => {
  expect(scripts.compile).toBe(`${scripts.build} --noCheck`);
  expect(scripts.prestart).toBe('npm run compile');
  expect(scripts.bench).toMatch(/^npm run compile && /);
  expect(scripts.soak).toMatch(/^npm run compile && /);
  // The README's test command builds with the check.
  expect(scripts.test).toMatch(/^npm run build && /);
});

describe('a build after a compile', () => {
  let dir: string;
  const build = (...flags: string[]) => spawnSync(process.execPath, [tsc, '-b', 'tsconfig.json', ...flags], { cwd: dir, encoding: 'utf8' });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'partq-compile-'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { composite: true, outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.tsbuildinfo', strict: true, types: [] }, files: ['index.ts'] }),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('still reports a type error the compile let through', () => {
    writeFileSync(join(dir, 'index.ts'), 'export const count: number = "three";\n');
    const compiled = build('--noCheck');
    expect(compiled.status).toBe(0);
    expect(readFileSync(join(dir, 'dist', 'index.js'), 'utf8')).toContain('three');

    const checked = build();
    expect(checked.status).not.toBe(0);
    expect(checked.stdout).toContain('TS2322');
    // And again: an unchecked project is not taken for a checked one later either.
    expect(build().status).not.toBe(0);
  });

  test('calls a clean project up to date once checked', () => {
    writeFileSync(join(dir, 'index.ts'), 'export const count: number = 3;\n');
    expect(build('--noCheck').status).toBe(0);
    expect(build().status).toBe(0);
    const verbose = execFileSync(process.execPath, [tsc, '-b', 'tsconfig.json', '--verbose'], { cwd: dir, encoding: 'utf8' });
    expect(verbose).toMatch(/up to date/);
  });
});
