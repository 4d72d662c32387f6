#!/usr/bin/env node
import { runCli } from './cli.js';

// Ctrl-C / SIGTERM end long commands cleanly (a follow ends, a produce sends what it read); with
// the listeners gone, a second one ends the process at once, as usual.
const interrupt = new AbortController();
const onSignal = () => {
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  interrupt.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

void runCli(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupt.signal,
}).then((code) => {
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.exitCode = code;
});
