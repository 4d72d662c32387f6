/** One run of a consume stream on this replica: from a (re)connect of its client to its end. */
export interface StreamRun {
  /** Aborts when the run is superseded (its client reconnected, or released the stream). */
  readonly signal: AbortSignal;
  /** False once superseded: the run must not deliver any more. Check it under the consumer's lock. */
  readonly current: boolean;
  /** The run ended; forgets it unless a newer run took its place. */
  close(): void;
}

/**
 * The consume streams running on this replica, by consumer and stream id. A client that reconnects
 * a stream (its gateway died, say) may leave the old run going here for a moment; the new run
 * supersedes it before giving back what the old one delivered, so the old run cannot deliver again
 * after that rewind and lose its delivery. Release supersedes the stream's run the same way.
 */
export class StreamRuns {
  private readonly runs = new Map<string, { controller: AbortController }>();

  get size(): number {
    return this.runs.size;
  }

  /** Starts a run of the stream, superseding the one running here. */
  open(consumerId: number, streamId: string): StreamRun {
    const key = keyOf(consumerId, streamId);
    this.runs.get(key)?.controller.abort();
    const entry = { controller: new AbortController() };
    this.runs.set(key, entry);
    const runs = this.runs;
    return {
      signal: entry.controller.signal,
      get current() {
        return runs.get(key) === entry;
      },
      close() {
        if (runs.get(key) === entry) runs.delete(key);
      },
    };
  }

  /** Stops every run (the replica is shutting down). */
  endAll(): void {
    for (const entry of this.runs.values()) entry.controller.abort();
    this.runs.clear();
  }

  /** Supersedes the stream's run here, if any (the client released the stream). */
  end(consumerId: number, streamId: string): void {
    const key = keyOf(consumerId, streamId);
    this.runs.get(key)?.controller.abort();
    this.runs.delete(key);
  }
}

function keyOf(consumerId: number, streamId: string): string {
  return `${consumerId}/${streamId}`;
}
