import { ManagerService } from '@partq/proto';
import { createRpcClient, fromConnectError } from '@partq/runtime';
import type { CommittedSequences } from '../log/partition-log.js';
import { DEFAULT_SEQUENCE_WINDOW } from '../log/producer-sequences.js';

/** Asks the manager which producer sequences PostgreSQL holds for a partition this broker takes over. */
export function committedSequencesFrom(managerUrl: string): CommittedSequences {
  return async (topicId, partitionId, belowOffset) => {
    const manager = createRpcClient(ManagerService, managerUrl);
    try {
      const answer = await manager.getProducerSequences(
        { topicId, partitionId, belowOffset: BigInt(belowOffset), limit: DEFAULT_SEQUENCE_WINDOW },
        { timeoutMs: 10_000 },
      );
      return answer.sequences.map((s) => ({ producerId: s.producerId, sequence: Number(s.sequence), offset: Number(s.offset) }));
    } catch (error) {
      throw fromConnectError(error);
    }
  };
}
