import type { ReadinessGate } from '../cluster/readiness-gate.js';
import type { GatewayServices } from '../gateway-services.js';

export interface RestOptions {
  services: GatewayServices;
  /** Holds requests until the first metadata snapshot arrived. */
  gate: ReadinessGate;
  /** Largest body of every route but produce. */
  bodyLimit: number;
  /** Largest body of POST /producer/produce (batches). */
  batchBodyLimit: number;
}
