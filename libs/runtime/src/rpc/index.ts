export { createRpcTransport, createRpcClient, closeRpcTransports } from './transport.js';
