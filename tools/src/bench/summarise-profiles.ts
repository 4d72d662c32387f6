/**
 * `node tools/dist/bench/summarise-profiles.js <dir>`: the bench's per-role summary (busiest packages
 * and functions) of the .cpuprofile files in a directory, such as the windows the profiler preload
 * wrote for a running cluster (cpu-profile-preload.ts).
 */
import { existsSync } from 'node:fs';
import { summariseProfiles } from './profile-summary.js';

const [dir, ...rest] = process.argv.slice(2);
if (dir === undefined || rest.length > 0 || dir.startsWith('-')) {
  process.stderr.write('Usage: node tools/dist/bench/summarise-profiles.js <directory of .cpuprofile files>\n');
  process.exit(2);
}
if (!existsSync(dir)) {
  process.stderr.write(`summarise-profiles: no directory ${dir}\n`);
  process.exit(2);
}
process.stdout.write(summariseProfiles(dir));
