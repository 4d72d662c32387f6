import type { LocalCluster } from '../../src/cluster/index.js';

/** A broker as GET /admin/brokers lists it. */
export interface BrokerView {
  broker_id: number;
  address: string;
  state: string;
  /** Why a draining broker drains; null when it does not. */
  drain_reason: 'operator' | 'disk_full' | null;
  /** Its last heartbeat said its disk is full. */
  disk_full: boolean;
  partitions: { topic: string; partition_id: number; epoch: number; high_watermark: number }[];
}

/** The cluster's brokers and their partitions, through the gateway's admin API. */
export async function listBrokers(cluster: Pick<LocalCluster, 'gatewayUrl' | 'adminToken'>): Promise<BrokerView[]> {
  const response = await fetch(new URL('/admin/brokers', cluster.gatewayUrl), { headers: { authorization: `Bearer ${cluster.adminToken}` } });
  const body = (await response.json()) as { brokers: BrokerView[] };
  return body.brokers;
}
