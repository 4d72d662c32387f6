import { createLogger } from '@partq/runtime';
import { gatewayConfig, type GatewayConfig } from '../../src/config.js';
import { startGateway, type Gateway } from '../../src/gateway.js';
import { startFakeBroker, type FakeBroker } from './fake-broker.js';
import { FakeClusterState } from './fake-cluster-state.js';
import { startFakeManager, type FakeManager } from './fake-manager.js';
import { startFakeReplica, type FakeReplica } from './fake-replica.js';

export interface FakeCluster {
  state: FakeClusterState;
  manager: FakeManager;
  brokers: FakeBroker[];
  replicas: FakeReplica[];
  gateway: Gateway;
  stop(): Promise<void>;
}

/** Fake manager, brokers and replicas on real ports, and a real gateway in front of them. */
export async function startFakeCluster(options: { brokers?: number; replicas?: number; gateway?: Partial<GatewayConfig> } = {}): Promise<FakeCluster> {
  const state = new FakeClusterState();
  const manager = await startFakeManager(state);
  const brokers: FakeBroker[] = [];
  for (let i = 0; i < (options.brokers ?? 2); i++) brokers.push(await startFakeBroker(state));
  const replicas: FakeReplica[] = [];
  for (let i = 0; i < (options.replicas ?? 1); i++) replicas.push(await startFakeReplica(state));

  const gateway = await startGateway(
    gatewayConfig({ port: 0, managerUrl: manager.url, produceTimeoutMs: 3000, instanceId: 'gateway-test', ...options.gateway }),
    { logger: createLogger({ role: 'gateway', instanceId: 'test', level: 'silent' }), activityIntervalMs: 50 },
  );
  return {
    state,
    manager,
    brokers,
    replicas,
    gateway,
    async stop() {
      // The manager first: it ends the metadata stream itself, as a clean end rather than a cut connection.
      await manager.close();
      await gateway.stop();
      await Promise.all([...brokers, ...replicas].map((peer) => peer.close()));
    },
  };
}
