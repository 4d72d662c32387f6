import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { LIFELINE_FD_ENV, MALLOC_TUNING_ENV } from '@partq/runtime';
import { waitReady } from './wait-ready.js';

/** The role's descriptor for its end of the lifeline (after stdin, stdout and stderr). */
const LIFELINE_FD = 3;
/**
 * How long a role may take to stop after SIGTERM: longer than its own server's shutdown (calls in
 * flight get 10 s, then are aborted, and their connections cut a second later), so that it ends
 * them itself and its log says what it waited for.
 */
const STOP_GRACE_MS = 15_000;
/** How long a stop waits for the role's log to be written out after it exited (output a descendant holds open must not hold it up). */
const LOG_FLUSH_TIMEOUT_MS = 2_000;

export type Role = 'manager' | 'broker' | 'replica' | 'gateway';

export interface RoleProcessSpec {
  role: Role;
  id: number;
  /** The role's entry point (apps/<role>/dist/main.js). */
  script: string;
  url: string;
  env: Record<string, string>;
  logDir: string;
  /** Also copy the role's log lines to this stream (the terminal for `npm start`). */
  echo?: NodeJS.WritableStream;
  /** What "started" means: ready to serve (/readyz, default) or merely up (/healthz, a standby). */
  readyPath?: '/readyz' | '/healthz';
  /**
   * A command that runs node for us, e.g. `['ip', 'netns', 'exec', 'ns1']` to put the role in a
   * network namespace (multi-host tests). It must exec node in place, so signals reach the role.
   */
  commandPrefix?: readonly string[];
  /** Run in a process group of its own: a terminal's Ctrl-C reaches only the launcher, which stops it in turn. */
  ownProcessGroup?: boolean;
}

/**
 * One role as its own OS process, with its log in <logDir>/<role>-<id>.log. Knows how to
 * start, wait for readiness, stop gracefully, and be killed (fault tests).
 */
export class RoleProcess {
  private child: ChildProcess | undefined;
  private exitedFlag = true;
  private exitListeners: ((code: number | null, signal: NodeJS.Signals | null) => void)[] = [];
  /** Resolves once the log holds the role's last output and its exit line. */
  private logWritten: Promise<void> = Promise.resolve();

  constructor(readonly spec: RoleProcessSpec) {}

  get name(): string {
    return `${this.spec.role}-${this.spec.id}`;
  }

  get pid(): number | undefined {
    return this.exitedFlag ? undefined : this.child?.pid;
  }

  get running(): boolean {
    return !this.exitedFlag;
  }

  onExit(listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(listener);
  }

  async start(readyTimeoutMs = 30_000): Promise<void> {
    mkdirSync(this.spec.logDir, { recursive: true });
    const log = createWriteStream(join(this.spec.logDir, `${this.name}.log`), { flags: 'a' });
    let logFinished!: () => void;
    this.logWritten = new Promise<void>((resolve) => (logFinished = resolve));
    const argv = [...(this.spec.commandPrefix ?? []), process.execPath, this.spec.script];
    const child = spawn(argv[0]!, argv.slice(1), {
      // The allocator settings roles run with in production too; the caller's environment may override them.
      // Descriptor 3 is the role's lifeline: this process holds the other end, and when it ends, however
      // it ends, the role sees the pipe close and stops (a SIGKILLed launcher leaves no role behind).
      env: { ...MALLOC_TUNING_ENV, ...process.env, ...this.spec.env, [LIFELINE_FD_ENV]: String(LIFELINE_FD) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: this.spec.ownProcessGroup ?? false,
    });
    this.child = child;
    this.exitedFlag = false;
    // Only held, never read or written: it must not keep this process alive, nor outlive the role.
    const lifeline = child.stdio[LIFELINE_FD] as Socket | null;
    lifeline?.on('error', () => undefined);
    lifeline?.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        this.spec.echo?.write(chunk);
      });
    }
    child.on('exit', (code, signal) => {
      this.exitedFlag = true;
      lifeline?.destroy();
      for (const listener of this.exitListeners) listener(code, signal);
    });
    // 'close' comes once the role's output is read to the end: ending the log at 'exit' lost the
    // last lines of a role that crashed, the ones a post-mortem needs.
    child.on('close', (code, signal) => {
      log.end(`[partq] ${this.name} (pid ${child.pid}) exited: ${signal ? `signal ${signal}` : `code ${code}`}\n`, logFinished);
    });
    await waitReady(this.spec.url, { timeoutMs: readyTimeoutMs, exited: () => this.exitedFlag, path: this.spec.readyPath });
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited within the grace period: resolves 'killed' then, so
   * the caller can say so. Resolves once its log is written out too: a launcher that exits right
   * after (Ctrl-C) lost the exit line of a role that had already stopped on its own signal.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<'stopped' | 'killed'> {
    let outcome: 'stopped' | 'killed' = 'stopped';
    if (!this.child) return outcome;
    if (!this.exitedFlag) {
      const exited = new Promise<void>((resolve) => this.child!.once('exit', () => resolve()));
      this.terminateNow();
      const timer = setTimeout(() => {
        outcome = 'killed';
        this.child?.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    await this.logFlushed();
    return outcome;
  }

  /**
   * SIGTERM without waiting: for the launcher's last moment (its 'exit' event runs no async code).
   * SIGCONT after it: a role frozen by a fault test (SIGSTOP) would otherwise keep the signal pending
   * and outlive its launcher, stopped, for good.
   */
  terminateNow(): void {
    if (!this.child || this.exitedFlag) return;
    this.child.kill('SIGTERM');
    this.child.kill('SIGCONT');
  }

  /** Sends a signal without waiting for readiness (SIGKILL, SIGSTOP, SIGCONT in fault tests). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.child || this.exitedFlag) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      this.child.kill(signal);
      return;
    }
    const exited = new Promise<void>((resolve) => this.child!.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
    await this.logFlushed();
  }

  private async logFlushed(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, LOG_FLUSH_TIMEOUT_MS)));
    await Promise.race([this.logWritten, timeout]);
    clearTimeout(timer);
  }
}
