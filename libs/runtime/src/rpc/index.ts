export { createRpcTransport, createRpcClient, closeRpcTransports } from './transport.js';
export { createFailoverTransport } from './failover-transport.js';
export { withWireBytes } from './wire-bytes.js';
