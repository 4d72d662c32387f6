import { decodeSequenceRuns } from '@partq/partition';
import { ManagerService } from '@partq/proto';
import { createRpcClient, fromConnectError } from '@partq/runtime';
import type { CommittedSequences } from '../log/partition-log.js';
import { DEFAULT_SEQUENCE_WINDOW } from '../log/producer-sequences.js';

/** Asks the manager which producer sequences PostgreSQL holds for a partition this broker takes over, as runs. */
export function committedSequencesFrom(managerUrl: string): CommittedSequences {
  return async (topicId, partitionId, belowOffset) => {
    const manager = createRpcClient(ManagerService, managerUrl);
    try {
      const answer = await manager.getProducerSequences(
        { topicId, partitionId, belowOffset: BigInt(belowOffset), limit: DEFAULT_SEQUENCE_WINDOW, acceptRunsData: true },
        { timeoutMs: 10_000 },
      );
      if (answer.runsData.byteLength > 0) return decodeSequenceRuns(answer.runsData);
      // An older manager answers a message per sequence.
      return answer.sequences.map((s) => ({ producerId: s.producerId, firstSequence: Number(s.sequence), firstOffset: Number(s.offset), count: 1 }));
    } catch (error) {
      throw fromConnectError(error);
    }
  };
}
