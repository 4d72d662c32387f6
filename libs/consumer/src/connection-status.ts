import type { AttemptObserver } from '@partq/client-core';
import type { ConsumerError } from './errors/consumer-error.js';

export interface DisconnectEvent {
  /** The gateway that could not be reached. */
  url: string;
  error: ConsumerError;
}

export interface ReconnectEvent {
  /** The gateway that answered again. */
  url: string;
}

/**
 * Turns the outcome of every RPC attempt into status events: 'disconnect' when a call first fails to
 * reach a gateway, 'reconnect' when a call succeeds again after that. Repeated failures during one
 * outage report a single disconnect.
 */
export class ConnectionStatus implements AttemptObserver<ConsumerError> {
  private connected = true;

  constructor(
    private readonly emitDisconnect: (event: DisconnectEvent) => void,
    private readonly emitReconnect: (event: ReconnectEvent) => void,
  ) {}

  get isConnected(): boolean {
    return this.connected;
  }

  succeeded(url: string): void {
    if (this.connected) return;
    this.connected = true;
    this.emitReconnect({ url });
  }

  failed(url: string, error: ConsumerError): void {
    if (!this.connected) return;
    this.connected = false;
    this.emitDisconnect({ url, error });
  }
}
