import type { MetadataView } from '@partq/cluster';
import type { AdminToken } from './admin/admin-token.js';
import type { ClusterAdmin } from './admin/cluster-admin.js';
import type { HealthReport } from './admin/health-report.js';
import type { Registrations } from './admin/registrations.js';
import type { TopicAdmin } from './admin/topic-admin.js';
import type { ConsumerReads } from './consume/consumer-reads.js';
import type { ProducerRouter } from './produce/producer-router.js';

/** The gateway's logic; the REST plugins and the Connect services are two thin front ends of it. */
export interface GatewayServices {
  view: MetadataView;
  topics: TopicAdmin;
  registrations: Registrations;
  producer: ProducerRouter;
  reads: ConsumerReads;
  health: HealthReport;
  admin: ClusterAdmin;
  adminToken: AdminToken;
  /** Aborts when the gateway begins to stop: streams that never end by themselves (SendStream) end then. */
  stopping: AbortSignal;
}
