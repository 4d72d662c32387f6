export { createRpcTransport, createRpcClient, closeRpcTransports } from './transport.js';
export { createFailoverTransport } from './failover-transport.js';
export { withWireBytes } from '@partq/client-core';
