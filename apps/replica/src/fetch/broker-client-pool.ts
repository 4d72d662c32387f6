import type { Client } from '@connectrpc/connect';
import { BrokerService } from '@partq/proto';
import { closeRpcTransports, createRpcClient } from '@partq/runtime';

/** The BrokerService calls the replica makes. */
export type BrokerClient = Pick<Client<typeof BrokerService>, 'fetch' | 'tail' | 'getOffsets'>;

/** A BrokerService client per broker address, made on first use. */
export interface BrokerClientPool {
  client(address: string): BrokerClient;
}

/** The pool over @partq/runtime's shared keep-alive transports. */
export class RpcBrokerClientPool implements BrokerClientPool {
  private readonly clients = new Map<string, BrokerClient>();

  client(address: string): BrokerClient {
    let client = this.clients.get(address);
    if (!client) {
      client = createRpcClient(BrokerService, address);
      this.clients.set(address, client);
    }
    return client;
  }

  /** Closes the idle connections to every broker this pool talked to. */
  close(): void {
    for (const address of this.clients.keys()) closeRpcTransports(address);
    this.clients.clear();
  }
}
