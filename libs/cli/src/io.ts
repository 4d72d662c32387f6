/** What the command line reads, writes and listens to: the process's, or test doubles. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Fires on Ctrl-C / SIGTERM: long commands stop cleanly. */
  signal: AbortSignal;
}

/**
 * Lines to a stream, waiting when the reader is slower (so `partq consume` never buffers a topic in
 * memory). When the reader goes away (`partq consume t | head`, EPIPE) it reports `closed` and
 * drops further lines instead of crashing.
 */
export class LineOutput {
  private closedFlag = false;
  private failure: Error | undefined;
  private readonly wakers = new Set<() => void>();

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // A reader that left is the end of the output, not a failure; anything else is reported by the next write.
      this.closedFlag = true;
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') this.failure = error;
      this.wake();
    });
    stream.on('close', () => {
      this.closedFlag = true;
      this.wake();
    });
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  async line(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.closedFlag) return;
    if (this.stream.write(`${text}\n`)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.stream.off('drain', done);
        this.wakers.delete(done);
        resolve();
      };
      this.wakers.add(done);
      this.stream.on('drain', done);
    });
    if (this.failure) throw this.failure;
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}
