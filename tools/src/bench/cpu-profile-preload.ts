/**
 * Preloaded into each cluster role by `npm run bench -- --profile` (NODE_OPTIONS=--require ...):
 * `--cpu-prof` itself is not allowed in NODE_OPTIONS, so this starts V8's sampling profiler
 * through the inspector and writes <role>-<pid>.cpuprofile into PARTQ_CPU_PROFILE_DIR when the
 * process exits (the roles exit on SIGTERM). Open the files in Chrome DevTools or speedscope.
 *
 * With PARTQ_CPU_PROFILE_ON_SIGNAL=SIGUSR2 the profiler instead starts at the first such signal and
 * stops at the next, writing <role>-<pid>-<n>.cpuprofile, and so on: a window of a warm,
 * long-running cluster (a profile from start-up counts module loading and the cold JIT too).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const directory = process.env['PARTQ_CPU_PROFILE_DIR'] ?? '.';
/** apps/<role>/dist/main.js -> <role> */
const role = basename(dirname(dirname(process.argv[1] ?? 'node')));
const SAMPLING_INTERVAL_US = Number(process.env['PARTQ_CPU_PROFILE_INTERVAL_US'] ?? 200);
const toggleSignal = process.env['PARTQ_CPU_PROFILE_ON_SIGNAL'] as NodeJS.Signals | undefined;

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });

/** Stops the profiler and writes what it sampled (an in-process session answers synchronously). */
function stopAndWrite(name: string): void {
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, name), JSON.stringify(result.profile));
  });
}

if (toggleSignal) {
  let windows = 0;
  let running = false;
  process.on(toggleSignal, () => {
    if (running) stopAndWrite(`${role}-${process.pid}-${windows++}.cpuprofile`);
    else session.post('Profiler.start');
    running = !running;
  });
} else {
  session.post('Profiler.start');
  process.on('exit', () => stopAndWrite(`${role}-${process.pid}.cpuprofile`));
}
