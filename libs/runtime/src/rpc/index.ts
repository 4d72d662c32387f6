export { createRpcTransport, createRpcClient, closeRpcTransports } from './transport.js';
export { createFailoverTransport } from './failover-transport.js';
export { withWireBytes, wireBytesOf } from '@partq/client-core';
