import type { Client } from '@connectrpc/connect';
import type { MetadataView } from '@partq/cluster';
import { murmur2 } from '@partq/partition';
import type { Replica, ReplicaService } from '@partq/proto';
import { fromConnectError, isSupersededRun, PartqError, supersededRunError, type ErrorCode } from '@partq/runtime';
import type { Logger } from 'pino';
import type { MetadataRefresher } from '../cluster/metadata-refresher.js';
import type { PeerClients } from '../cluster/peer-clients.js';

export interface ReplicaRouterOptions {
  view: MetadataView;
  refresher: MetadataRefresher;
  replicas: PeerClients<typeof ReplicaService>;
  logger: Pick<Logger, 'warn' | 'debug'>;
  /** How long a replica that failed is tried last for everyone. Default 2 s. */
  suspectMs?: number;
}

const encoder = new TextEncoder();

/** Failures of a replica stream that are the request's own fault, passed to the client as they are. */
const REQUEST_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'ALREADY_EXISTS',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHENTICATED',
]);

/**
 * Sends a consumer's reads to a replica chosen by rendezvous hashing over the replicas in the
 * view: the same consumer goes to the same replica while the set is stable (its positions stay
 * warm there), and only the consumers of a replica that leaves move. An unreachable replica is
 * skipped for the next one in the consumer's order, and kept last for a moment so that the next
 * calls do not wait on it again.
 */
export class ReplicaRouter {
  private readonly suspectUntil = new Map<number, number>();
  private readonly suspectMs: number;

  constructor(private readonly options: ReplicaRouterOptions) {
    this.suspectMs = options.suspectMs ?? 2000;
  }

  /** The replicas in the order `consumerId` tries them. */
  order(consumerId: number): Replica[] {
    const now = Date.now();
    return this.options.view
      .replicas()
      .map((replica) => ({ replica, weight: rendezvousWeight(consumerId, replica.id), suspect: (this.suspectUntil.get(replica.id) ?? 0) > now }))
      .sort((a, b) => Number(a.suspect) - Number(b.suspect) || b.weight - a.weight || a.replica.id - b.replica.id)
      .map((entry) => entry.replica);
  }

  /** The consumer's replicas in order; asks the manager once when none is known. */
  private async candidates(consumerId: number): Promise<Replica[]> {
    let candidates = this.order(consumerId);
    if (candidates.length === 0) {
      await this.options.refresher.tryRefresh();
      candidates = this.order(consumerId);
      if (candidates.length === 0) throw new PartqError('UNAVAILABLE', 'no replica is registered to serve consumers');
    }
    return candidates;
  }

  /**
   * Relays a server stream of the consumer's replica (chosen as for `call`). A replica that cannot be
   * reached before the stream's first item is skipped for the next one. Once items flowed, any
   * failure but the request's own (NOT_FOUND, PERMISSION_DENIED, ...) ends the stream with
   * UNAVAILABLE: the path broke, the client reconnects. Once `signal` aborted (the caller stopped
   * the stream) it ends with CANCELLED, quietly.
   */
  async *stream<T>(
    consumerId: number,
    signal: AbortSignal,
    open: (client: Client<typeof ReplicaService>, replica: Replica) => AsyncIterable<T>,
  ): AsyncGenerator<T> {
    let lastError: PartqError | undefined;
    for (const replica of await this.candidates(consumerId)) {
      let started = false;
      try {
        for await (const item of open(this.options.replicas.get(replica.address), replica)) {
          if (!started) {
            started = true;
            this.suspectUntil.delete(replica.id);
          }
          yield item;
        }
        return;
      } catch (error) {
        if (signal.aborted) throw new PartqError('CANCELLED', 'the stream was stopped', { consumerId });
        const failure = fromConnectError(error);
        if (REQUEST_ERRORS.has(failure.code)) throw failure;
        // A run its own client superseded (it reconnected, or released the stream) is no failure of
        // the replica, before its first item as after: passed on as such, so no one counts it as one.
        if (isSupersededRun(failure)) {
          this.options.logger.debug({ replicaId: replica.id, consumerId }, 'replica stream superseded by its client');
          throw supersededRunError(`the stream from replica ${replica.id} was released or reopened by its client; reconnect`, { consumerId });
        }
        if (started || failure.code !== 'UNAVAILABLE') {
          this.options.logger.warn({ err: failure, replicaId: replica.id, consumerId }, 'replica stream failed; the client reconnects');
          throw new PartqError('UNAVAILABLE', `the stream from replica ${replica.id} broke (${failure.code}); reconnect`, { consumerId });
        }
        lastError = failure;
        this.suspectUntil.set(replica.id, Date.now() + this.suspectMs);
        this.options.logger.warn({ err: failure, replicaId: replica.id, address: replica.address, consumerId }, 'replica unavailable; trying the next one');
      }
    }
    throw new PartqError('UNAVAILABLE', `no replica could serve consumer ${consumerId}: ${lastError?.message ?? 'unknown error'}`, {
      consumerId,
    });
  }

  /** Runs `call` on the consumer's replica, moving to the next one while a replica is UNAVAILABLE. */
  async call<T>(consumerId: number, call: (client: Client<typeof ReplicaService>, replica: Replica) => Promise<T>): Promise<T> {
    const candidates = await this.candidates(consumerId);
    let lastError: PartqError | undefined;
    for (const replica of candidates) {
      try {
        const result = await call(this.options.replicas.get(replica.address), replica);
        this.suspectUntil.delete(replica.id);
        return result;
      } catch (error) {
        const failure = fromConnectError(error);
        if (failure.code !== 'UNAVAILABLE') throw failure;
        lastError = failure;
        this.suspectUntil.set(replica.id, Date.now() + this.suspectMs);
        this.options.logger.warn({ err: failure, replicaId: replica.id, address: replica.address, consumerId }, 'replica unavailable; trying the next one');
      }
    }
    throw new PartqError('UNAVAILABLE', `no replica could serve consumer ${consumerId}: ${lastError?.message ?? 'unknown error'}`, {
      consumerId,
    });
  }
}

/** Highest weight wins; murmur2 spreads (consumer, replica) pairs evenly. */
function rendezvousWeight(consumerId: number, replicaId: number): number {
  return murmur2(encoder.encode(`${consumerId}/${replicaId}`)) >>> 0;
}
