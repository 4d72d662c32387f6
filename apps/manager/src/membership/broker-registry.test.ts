import type { BrokerRow, BrokerState } from '@partq/schema';
import type { Logger } from 'pino';
import type { PartitionAssigner } from '../assignment/partition-assigner.js';
import { ClusterState } from '../state/cluster-state.js';
import type { MetadataStore } from '../store/metadata-store.js';
import { BrokerRegistry } from './broker-registry.js';

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() } as unknown as Logger;

function broker(id: number, state: BrokerState): BrokerRow {
  return { id, address: `http://127.0.0.1:${7100 + id}`, state, drain_reason: state === 'draining' ? 'disk_full' : null, registered_at: new Date(), last_heartbeat_at: new Date() };
}

describe('BrokerRegistry.start (a manager starting over an existing cluster)', () => {
  test('starts the syncs of alive and draining brokers, not of dead ones', () => {
    const state = new ClusterState();
    state.apply({ brokers: [broker(1, 'alive'), broker(2, 'draining'), broker(3, 'dead')] });
    const onAlive = jest.fn();
    const registry = new BrokerRegistry(state, {} as MetadataStore, {} as PartitionAssigner, logger, { brokerTimeoutMs: 3_000, onAlive });
    registry.start();
    registry.stop();
    // A draining broker still holds records to commit before its partitions can move, and heartbeats
    // to this manager without registering again: without a sync it would hold them for good.
    expect(onAlive.mock.calls.map(([row]) => (row as BrokerRow).id).sort()).toEqual([1, 2]);
  });
});
