import { create } from '@bufbuild/protobuf';
import {
  ManagerService,
  PartitionAssignmentSchema,
  type BrokerHeartbeatRequest,
  type PartitionAssignment,
  type RegisterBrokerRequest,
} from '@partq/proto';
import { createLogger, createMetricsRegistry, PartqError, startServiceServer, wrapServiceImpl } from '@partq/runtime';

export interface FakeAssignment {
  topicId: number;
  partitionId: number;
  epoch: number;
  startOffset?: number;
  highWatermark?: number;
  /** Being moved away: appends refused, reads and syncs served. */
  fenced?: boolean;
}

/**
 * A stand-in for the manager (being built concurrently): RegisterBroker and BrokerHeartbeat over real
 * Connect, answering each broker with the assignment the test set for it.
 */
export class FakeManager {
  readonly registrations: RegisterBrokerRequest[] = [];
  readonly heartbeats: BrokerHeartbeatRequest[] = [];
  private readonly assignments = new Map<number, FakeAssignment[]>();
  private readonly known = new Set<number>();
  private nextBrokerId = 1;
  /** The dead-broker timeout its answers announce (0: none, as an older manager). */
  brokerTimeoutMs = 0;
  /** While set, heartbeats wait for it before answering (a manager slow to answer). */
  private held: Promise<void> | undefined;

  private constructor(
    readonly url: string,
    private readonly closeServer: () => Promise<void>,
    private readonly heartbeatIntervalMs: number,
  ) {}

  static async start(heartbeatIntervalMs = 50, port = 0): Promise<FakeManager> {
    let manager: FakeManager | undefined;
    const server = await startServiceServer({
      host: '127.0.0.1',
      port,
      logger: createLogger({ role: 'fake-manager', instanceId: 'test', level: 'silent' }),
      registry: createMetricsRegistry('fake-manager'),
      routes: (router) =>
        router.service(
          ManagerService,
          wrapServiceImpl({
            registerBroker: (request: RegisterBrokerRequest) => manager!.register(request),
            brokerHeartbeat: (request: BrokerHeartbeatRequest) => manager!.heartbeat(request),
            // Nothing is committed in this fake's PostgreSQL.
            getProducerSequences: () => ({ sequences: [] }),
          }),
        ),
    });
    manager = new FakeManager(server.url, () => server.close(), heartbeatIntervalMs);
    return manager;
  }

  /** The complete assignment of `brokerId` from now on. */
  assign(brokerId: number, assignments: FakeAssignment[]): void {
    this.assignments.set(brokerId, assignments);
  }

  /** Heartbeats wait unanswered until the returned function is called. */
  holdHeartbeats(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    return () => {
      this.held = undefined;
      release();
    };
  }

  /** Forget every broker: their next heartbeat gets NOT_FOUND. */
  forgetBrokers(): void {
    this.known.clear();
  }

  close(): Promise<void> {
    return this.closeServer();
  }

  private register(request: RegisterBrokerRequest) {
    this.registrations.push(request);
    const brokerId = request.brokerId ?? this.nextBrokerId++;
    this.known.add(brokerId);
    return { brokerId, heartbeatIntervalMs: this.heartbeatIntervalMs, brokerTimeoutMs: this.brokerTimeoutMs, assignments: this.assignmentsOf(brokerId) };
  }

  private async heartbeat(request: BrokerHeartbeatRequest) {
    this.heartbeats.push(request);
    await this.held;
    if (!this.known.has(request.brokerId)) throw new PartqError('NOT_FOUND', `unknown broker ${request.brokerId}`);
    return { assignments: this.assignmentsOf(request.brokerId), brokerTimeoutMs: this.brokerTimeoutMs };
  }

  private assignmentsOf(brokerId: number): PartitionAssignment[] {
    return (this.assignments.get(brokerId) ?? []).map((a) =>
      create(PartitionAssignmentSchema, {
        topicId: a.topicId,
        partitionId: a.partitionId,
        epoch: a.epoch,
        startOffset: BigInt(a.startOffset ?? 0),
        highWatermark: BigInt(a.highWatermark ?? a.startOffset ?? 0),
        fenced: a.fenced ?? false,
      }),
    );
  }
}
