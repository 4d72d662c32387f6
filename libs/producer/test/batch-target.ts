import { Acks } from '@partq/client-core';
import type { BatchTarget } from '../src/batching/batch.js';
import { SequenceCounter } from '../src/sequence.js';

/** A batch target for tests of the batching parts, with a registration of its own. */
export function batchTarget(topic = 't', producerId = 1): BatchTarget {
  return { topic, producerId, acks: Acks.UNSPECIFIED, registration: { topic, producerId, partitionCount: 1, sequences: new SequenceCounter() } };
}
