import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/* The bench's profiler preload, in a real process: a profile from start to exit, or windows between signals. */

const PRELOAD = join(__dirname, '..', 'dist', 'bench', 'cpu-profile-preload.js');
const SUMMARISE = join(__dirname, '..', 'dist', 'bench', 'summarise-profiles.js');
/** Stands in for a role: apps/<role>/dist/main.js names the profile <role>-<pid>…; it spins until SIGTERM. */
const ROLE_SCRIPT =
  'let n = 0; const t = setInterval(() => { for (let i = 0; i < 1e5; i++) n += i; }, 5); process.on("SIGTERM", () => { clearInterval(t); }); console.log("ready");';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'partq-profile-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves once the role runs (the preload, and its signal handler, came first), so a signal cannot kill it. */
async function startRole(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--require', PRELOAD, '-e', ROLE_SCRIPT], {
    env: { ...process.env, PARTQ_CPU_PROFILE_DIR: dir, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { child, exited };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const profiles = () => readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
const sampleCount = (file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { samples: number[] }).samples.length;

test('profiles from start to exit by default', async () => {
  const { child, exited } = await startRole({});
  await pause(500);
  child.kill('SIGTERM');
  await exited;
  expect(profiles()).toEqual([expect.stringMatching(/^.+-\d+\.cpuprofile$/)]);
  expect(sampleCount(profiles()[0]!)).toBeGreaterThan(0);
});

test('with PARTQ_CPU_PROFILE_ON_SIGNAL, profiles only between two signals, one file per window', async () => {
  const { child, exited } = await startRole({ PARTQ_CPU_PROFILE_ON_SIGNAL: 'SIGUSR2' });
  await pause(300);
  expect(profiles()).toEqual([]);
  for (let window = 0; window < 2; window++) {
    child.kill('SIGUSR2');
    await pause(300);
    child.kill('SIGUSR2');
    await pause(200);
  }
  child.kill('SIGTERM');
  await exited;
  const files = profiles();
  expect(files).toEqual([expect.stringMatching(/-\d+-0\.cpuprofile$/), expect.stringMatching(/-\d+-1\.cpuprofile$/)]);
  for (const file of files) expect(sampleCount(file)).toBeGreaterThan(0);
  // The bench's summary of the windows, by role file.
  const summary = execFileSync(process.execPath, [SUMMARISE, dir], { encoding: 'utf8' });
  expect(summary.match(/^=== .+\.cpuprofile: \d+ ms busy/gm)).toHaveLength(2);
});
