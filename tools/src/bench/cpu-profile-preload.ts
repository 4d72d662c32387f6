/**
 * Preloaded into each cluster role by `npm run bench -- --profile` (NODE_OPTIONS=--require ...):
 * `--cpu-prof` itself is not allowed in NODE_OPTIONS, so this starts V8's sampling profiler
 * through the inspector and writes <role>-<pid>.cpuprofile into PARTQ_CPU_PROFILE_DIR when the
 * process exits (the roles exit on SIGTERM). Open the files in Chrome DevTools or speedscope.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const directory = process.env['PARTQ_CPU_PROFILE_DIR'] ?? '.';
/** apps/<role>/dist/main.js -> <role> */
const role = basename(dirname(dirname(process.argv[1] ?? 'node')));
const SAMPLING_INTERVAL_US = Number(process.env["PARTQ_CPU_PROFILE_INTERVAL_US"] ?? 200);

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
session.post('Profiler.start');

process.on('exit', () => {
  // An in-process inspector session answers synchronously, so this still runs before exit.
  session.post('Profiler.stop', (error, result) => {
    if (error) return;
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, `${role}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
