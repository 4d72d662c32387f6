import type { Client } from '@connectrpc/connect';
import { BrokerService } from '@partq/proto';
import { createRpcClient } from '@partq/runtime';
import type { ClusterState } from '../state/cluster-state.js';

/** Connect clients of the brokers, by broker id, following address changes. */
export class BrokerClients {
  constructor(private readonly state: ClusterState) {}

  get(brokerId: number): Client<typeof BrokerService> | undefined {
    const broker = this.state.brokers.get(brokerId);
    return broker ? createRpcClient(BrokerService, broker.address) : undefined;
  }
}
