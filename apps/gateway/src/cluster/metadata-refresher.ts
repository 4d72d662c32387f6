import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import type { ManagerService } from '@partq/proto';
import { fromConnectError } from '@partq/runtime';

/**
 * Pulls the manager's full metadata into the view on demand: when a lookup misses (another gateway
 * may have registered the entity a moment ago) or when a broker refused a write and the stream has
 * not brought news yet. Concurrent callers share one in-flight call so a burst of misses costs the
 * manager one RPC.
 */
export class MetadataRefresher {
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly manager: Client<typeof ManagerService>,
    private readonly view: MetadataView,
    private readonly timeoutMs = 2000,
  ) {}

  /** Rejects with a PartqError (usually UNAVAILABLE) when the manager cannot be reached. */
  refresh(): Promise<void> {
    this.inFlight ??= this.fetch().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Like refresh(), but a failure only means "nothing new learned". */
  async tryRefresh(): Promise<boolean> {
    try {
      await this.refresh();
      return true;
    } catch {
      return false;
    }
  }

  private async fetch(): Promise<void> {
    try {
      const answer = await this.manager.getMetadata({}, { timeoutMs: this.timeoutMs });
      // Upsert, not a snapshot: the stream may already hold newer entries than this answer.
      if (answer.metadata) this.view.upsert(answer.metadata);
    } catch (error) {
      throw fromConnectError(error);
    }
  }
}
