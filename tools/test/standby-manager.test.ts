import { judgeAndReport, runCourseWorkload } from './support/course-workload.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';

/*
 * A standby manager waits on the PostgreSQL advisory lock and takes over when the active one is
 * SIGKILLed under load; brokers, replicas and gateways fail over to it by their list of manager URLs.
 */
jest.setTimeout(240_000);

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ managers: 2, brokers: 2, replicas: 1, restart: false });
});

afterAll(async () => {
  await cluster?.dispose();
});

test('the standby takes over from a SIGKILLed active manager; nothing acknowledged is lost', async () => {
  let takeoverMs = 0;
  const workload = await runCourseWorkload(cluster.gatewayUrl, {
    scenario: 'standby',
    fault: async () => {
      const standby = cluster.find('manager', 2);
      const killed = Date.now();
      await cluster.find('manager', 1).kill('SIGKILL');
      for (;;) {
        const ready = await fetch(`${standby.spec.url}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (ready) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      takeoverMs = Date.now() - killed;
    },
  });
  process.stdout.write(`standby manager took over ${takeoverMs} ms after the active one was SIGKILLed\n`);
  const report = judgeAndReport('standby', workload);
  expect(report.examples).toEqual([]);
  expect(report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });

  // The new manager runs the cluster: a topic created now gets owners and takes messages.
  const created = await fetch(`${cluster.gatewayUrl}/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ topic_name: 'after-takeover', partitions: 2 }),
  });
  expect(created.status).toBe(201);
});
