import { judgeAndReport, runCourseWorkload } from './support/course-workload.js';
import { RestClient } from './support/rest-client.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/*
 * Several replicas and several gateways: a gateway sends each consumer to one replica (stable by
 * consumer id) and moves it to another when that replica dies; positions live in PostgreSQL, so
 * nothing is lost or repeated. Any gateway serves any producer or consumer.
 */
jest.setTimeout(240_000);

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ brokers: 2, replicas: 2, gateways: 2, restart: false });
});

afterAll(async () => {
  await cluster?.dispose();
});

test('a replica SIGKILLed under load: its consumers move to the other replica, nothing lost or repeated', async () => {
  const workload = await runCourseWorkload(cluster.gatewayUrls[0]!, {
    scenario: 'replica-dies',
    fault: () => cluster.find('replica', 1).kill('SIGKILL'),
  });
  const report = judgeAndReport('replica-dies', workload);
  expect(report.examples).toEqual([]);
  expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
});

test('producers and consumers registered through one gateway work through the other', async () => {
  const [one, two] = cluster.gatewayUrls.map((url) => new RestClient(url)) as [RestClient, RestClient];
  expect((await two.createTopic('two-gateways', 2)).status).toBe(201);
  const consumer = await one.registerConsumer('two-gateways');
  const producer = await two.registerProducer('two-gateways');
  for (let i = 0; i < 20; i++) {
    const gateway = i % 2 === 0 ? one : two;
    expect((await gateway.produce('two-gateways', producer, `m${i}`)).body).toMatchObject({ status: 'success' });
  }
  const fromTwo = await two.drain('two-gateways', consumer);
  expect(fromTwo.map((m) => m.message).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
  expect((await one.consume('two-gateways', consumer)).body).toMatchObject({ code: 'EMPTY' });
});
