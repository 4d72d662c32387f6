import type { DescService } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { closeRpcTransports, createRpcClient } from '@partq/runtime';

/**
 * Connect clients of one service (brokers, replicas) by the address a peer registered with.
 * Clients are made on first use and kept: the partition map names a handful of peers, used again
 * and again.
 */
export class PeerClients<S extends DescService> {
  private readonly clients = new Map<string, Client<S>>();

  constructor(private readonly service: S) {}

  get(address: string): Client<S> {
    let client = this.clients.get(address);
    if (!client) {
      client = createRpcClient(this.service, toBaseUrl(address));
      this.clients.set(address, client);
    }
    return client;
  }

  /** Closes the idle connections of every peer used. */
  close(): void {
    for (const address of this.clients.keys()) closeRpcTransports(toBaseUrl(address));
    this.clients.clear();
  }
}

/** Peers register "host:port" or a full URL; Connect needs a URL. */
export function toBaseUrl(address: string): string {
  return /^https?:\/\//i.test(address) ? address : `http://${address}`;
}
