/**
 * `npm run build` is one `tsc --build` over tsconfig.build.json: one process that parses the
 * type definitions every package shares once, where a tsc per package parsed them 15 times. It
 * builds a package after the ones its tsconfig.lib.json references, so those references must
 * say what package.json says the package depends on; these checks keep the two from drifting.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = join(__dirname, '..', '..');

interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface TsConfig {
  compilerOptions?: { composite?: boolean; outDir?: string; tsBuildInfoFile?: string };
  references?: { path: string }[];
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** Every workspace package, by directory relative to the root (the root package.json's globs). */
function workspaceDirs(): string[] {
  const { workspaces } = readJson<{ workspaces: string[] }>(join(root, 'package.json'));
  return workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent))
      .map((name) => `${parent}/${name}`)
      .filter((dir) => existsSync(join(root, dir, 'package.json')));
  });
}

const dirs = workspaceDirs();
const dirByName = new Map(dirs.map((dir) => [readJson<PackageJson>(join(root, dir, 'package.json')).name, dir]));

/** The package directory a `references` entry of `fromDir`'s tsconfig points into. */
const referencedDir = (fromDir: string, path: string): string => relative(root, resolve(root, fromDir, path)).replace(/\/tsconfig\.lib\.json$/, '');

test('the workspace has packages to check', () => {
  expect(dirs).toEqual(expect.arrayContaining(['proto', 'libs/wal', 'apps/broker', 'tools']));
});

test.each(dirs)('%s: tsconfig.lib.json references exactly the workspace packages it depends on', (dir) => {
  const manifest = readJson<PackageJson>(join(root, dir, 'package.json'));
  const dependsOn = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })
    .filter((name) => dirByName.has(name))
    .map((name) => dirByName.get(name)!)
    .sort();
  const config = readJson<TsConfig>(join(root, dir, 'tsconfig.lib.json'));
  const references = (config.references ?? []).map((reference) => referencedDir(dir, reference.path)).sort();
  expect(references).toEqual(dependsOn);
});

test.each(dirs)('%s: builds as a composite project whose build state lives in dist', (dir) => {
  const { compilerOptions } = readJson<TsConfig>(join(root, dir, 'tsconfig.lib.json'));
  expect(compilerOptions?.composite).toBe(true);
  expect(compilerOptions?.outDir).toBe('dist');
  // In dist, so that deleting dist makes `tsc -b` build the package again instead of calling it up to date.
  expect(compilerOptions?.tsBuildInfoFile).toMatch(/^dist\//);
});

test('tsconfig.build.json builds every workspace package', () => {
  const solution = readJson<TsConfig>(join(root, 'tsconfig.build.json'));
  const built = (solution.references ?? []).map((reference) => referencedDir('.', reference.path)).sort();
  expect(built).toEqual([...dirs].sort());
});
