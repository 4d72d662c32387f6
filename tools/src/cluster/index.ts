export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from './local-cluster.js';
export { RoleProcess, type Role } from './role-process.js';
export { freePort } from './free-port.js';
