import { create } from '@bufbuild/protobuf';
import { BrokerService, PartitionAssignmentSchema, type AssignRequest } from '@partq/proto';
import { createLogger, createMetricsRegistry, createRpcClient, PartqError, startServiceServer, wrapServiceImpl } from '@partq/runtime';
import { AssignmentPusher } from './assignment-pusher.js';

/** A broker that records the Assigns it gets and answers each only when the test says so. */
async function startHeldBroker() {
  const received: AssignRequest[] = [];
  const answers: ((failure?: Error) => void)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const server = await startServiceServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger({ role: 'fake-broker', instanceId: 'pusher', level: 'silent' }),
    registry: createMetricsRegistry('fake-broker'),
    routes: (router) =>
      router.service(
        BrokerService,
        wrapServiceImpl({
          assign: async (request: AssignRequest) => {
            received.push(request);
            mostInFlight = Math.max(mostInFlight, ++inFlight);
            try {
              await new Promise<void>((resolve, reject) => answers.push((failure) => (failure ? reject(failure) : resolve())));
            } finally {
              inFlight--;
            }
            return {};
          },
        }),
      ),
  });
  return {
    received,
    get mostInFlight() {
      return mostInFlight;
    },
    client: createRpcClient(BrokerService, server.url),
    /** Answers the oldest Assign waiting (once one arrived). */
    async answer(failure?: Error) {
      while (answers.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      answers.shift()!(failure);
    },
    close: () => server.close(),
  };
}

const partitionsOf = (request: AssignRequest) => request.assignments.map((a) => a.partitionId);

test('one Assign at a time per broker, each computed as it leaves; requests made meanwhile share the next', async () => {
  const broker = await startHeldBroker();
  try {
    let owned = [0];
    const pusher = new AssignmentPusher({ get: () => broker.client }, () =>
      owned.map((partitionId) => create(PartitionAssignmentSchema, { topicId: 1, partitionId, epoch: 1 })),
    );
    const first = pusher.push(1, 5_000);
    owned = [0, 1];
    const second = pusher.push(1, 5_000);
    owned = [0, 1, 2];
    const third = pusher.push(1, 5_000);

    await broker.answer();
    await first;
    await broker.answer();
    await Promise.all([second, third]);
    // The first went out as it was asked for; the two asked for while it was in flight went as one, as of the last.
    expect(broker.received.map(partitionsOf)).toEqual([[0], [0, 1, 2]]);
    expect(broker.received.every((request) => request.complete)).toBe(true);
    expect(broker.mostInFlight).toBe(1);
  } finally {
    await broker.close();
  }
});

test('a failed push rejects those who waited for it, and the next push goes out', async () => {
  const broker = await startHeldBroker();
  try {
    const pusher = new AssignmentPusher({ get: () => broker.client }, () => []);
    const failed = pusher.push(1, 5_000);
    await broker.answer(new PartqError('UNAVAILABLE', 'broker stopping'));
    await expect(failed).rejects.toThrow('broker stopping');
    const next = pusher.push(1, 5_000);
    await broker.answer();
    await next;
    expect(broker.received).toHaveLength(2);

    const unknown = new AssignmentPusher({ get: () => undefined }, () => []);
    await expect(unknown.push(7, 1_000)).rejects.toThrow('broker 7 has no address');
  } finally {
    await broker.close();
  }
});
