import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer } from '@partq/consumer';
import { Producer } from '@partq/producer';
import { listBrokers, type BrokerView } from './support/admin-api.js';
import { RestClient, type RestAnswer } from './support/rest-client.js';
import { mountSmallDisk, whySmallDiskUnavailable } from './support/small-disk.js';
import { startTestCluster, type TestCluster } from './support/test-cluster.js';
import { waitFor } from './support/wait-for.js';

/*
 * A broker whose disk fills up: its writes fail, so the manager moves its partitions to a broker
 * that can write, and producers see their sends acknowledged there. A manager whose disk fills up
 * refuses what it cannot log, and goes on once there is room. Broker 2's and the manager's data
 * directories are tmpfs mounts of a few MiB (needs root; elsewhere the file is skipped and says why).
 */
jest.setTimeout(180_000);

const unavailable = whySmallDiskUnavailable();
if (unavailable !== undefined) process.stdout.write(`disk-full tests skipped: ${unavailable}\n`);
const describeWithSmallDisk = unavailable === undefined ? describe : describe.skip;

const SMALL_DISK_MIB = 8;
const RESUME_AFTER_S = 3;
const PAYLOAD = Buffer.alloc(1024, 'f');
const BALLAST = 'ballast';

describeWithSmallDisk(unavailable === undefined ? 'a full disk' : `a full disk (skipped: ${unavailable})`, () => {
  let cluster: TestCluster;
  let producer: Producer;

  beforeAll(async () => {
    cluster = await startTestCluster({
      brokers: 2,
      replicas: 1,
      // A drained broker whose disk has room again is put back in service after this (1 min by default).
      env: { manager: { PARTQ_FULL_DISK_RESUME_AFTER: `${RESUME_AFTER_S}s` } },
      prepareDataDir: (dataDir) => {
        const unmountBroker = mountSmallDisk(join(dataDir, 'broker-2'), SMALL_DISK_MIB);
        const unmountManager = mountSmallDisk(join(dataDir, 'manager-1'), SMALL_DISK_MIB);
        return () => {
          unmountManager();
          unmountBroker();
        };
      },
    });
    producer = new Producer({ urls: [cluster.gatewayUrl] });
  });

  afterAll(async () => {
    await producer?.close();
    await cluster?.dispose();
  });

  test('a broker whose disk fills up is drained: every send is acknowledged, and a consumer reads each message once', async () => {
    // A broker keeps only what the manager has not synced yet, so its disk must be nearly full
    // already for a test's load to fill it.
    fillDisk(smallDiskDir(), 256 * 1024);
    await producer.createTopic('filling', { partitions: 2 });
    const count = SMALL_DISK_MIB * 1024;
    const failures = await sendAll('filling', count);
    expect(failures).toEqual([]);

    const { small, large } = await brokersByDisk();
    expect(small).toMatchObject({ state: 'draining', drain_reason: 'disk_full', partitions: [] });
    expect(partitionsOf(large, 'filling')).toEqual([0, 1]);

    const consumer = new Consumer({ urls: [cluster.gatewayUrl] });
    try {
      await consumer.register('filling', { from: 'earliest' });
      const seen = new Set<string>();
      for await (const message of consumer.messages('filling')) {
        seen.add(`${message.partition}/${message.offset}`);
        if (seen.size === count) break;
      }
      expect(seen.size).toBe(count);
      expect((await consumer.size('filling')).size).toBe(0);
    } finally {
      await consumer.close();
    }
  });

  test('a drained broker whose disk has had room for a while is put back in service by itself, by a manager restarted since', async () => {
    // Why the broker drains is in the Central DB, so a manager that starts afresh knows it too.
    const manager = cluster.find('manager');
    await manager.kill('SIGKILL');
    await manager.start();
    // Its partitions gone, the drained broker's disk has room again.
    rmSync(join(smallDiskDir(), BALLAST));
    await waitFor('the drained broker to find room on its disk', async () => ((await diskFullGauge()) === 0 ? true : undefined));
    const roomAt = Date.now();
    await waitFor('the admin API to say so', async () => ((await brokersByDisk()).small.disk_full ? undefined : true));
    expect((await brokersByDisk()).small).toMatchObject({ state: 'draining', drain_reason: 'disk_full' });
    await waitFor('the manager to resume it', async () => ((await brokersByDisk()).small.state === 'alive' ? true : undefined));
    // Not before its heartbeats had said so for the resume delay (less one heartbeat, which the probe may have raced).
    expect(Date.now() - roomAt).toBeGreaterThanOrEqual((RESUME_AFTER_S - 1) * 1000);
    // New partitions go to it again.
    await producer.createTopic('after-room', { partitions: 2 });
    const { small } = await brokersByDisk();
    expect(small.drain_reason).toBeNull();
    expect(partitionsOf(small, 'after-room').length).toBeGreaterThan(0);
  });

  test('a partition that a broker with a full disk cannot create moves to another broker', async () => {
    fillDisk(smallDiskDir(), 0);

    await producer.createTopic('after-full', { partitions: 2 });
    const failures = await sendAll('after-full', 2000);
    expect(failures).toEqual([]);

    const { small, large } = await brokersByDisk();
    expect(small).toMatchObject({ state: 'draining', drain_reason: 'disk_full', disk_full: true, partitions: [] });
    expect(large).toMatchObject({ state: 'alive', disk_full: false });
    expect(partitionsOf(large, 'after-full')).toEqual([0, 1]);
    expect(await diskFullGauge()).toBe(1);
    // The status page says so among its problems.
    const status = (await (await fetch(new URL('/ui/api/status', cluster.gatewayUrl))).json()) as { problems: string[] };
    expect(status.problems).toContain(
      `broker ${small.broker_id}'s disk is full: its partitions move to other brokers, and it takes no new ones until it is resumed`,
    );
  });

  test("the manager's full disk refuses metadata changes with UNAVAILABLE, writes nothing, and they work again once there is room", async () => {
    const rest = new RestClient(cluster.gatewayUrl);
    const managerDir = join(cluster.dataDir, 'manager-1');
    fillDisk(managerDir, 0);
    // The log's last page may still take an entry or two; the first refused creation is the one to check.
    let refused: RestAnswer | undefined;
    for (let attempt = 0; attempt < 100 && refused === undefined; attempt++) {
      const answer = await rest.createTopic(`filling-the-manager-${attempt}`, 1);
      if (answer.status !== 201) refused = answer;
    }
    expect(refused?.status).toBe(503);
    expect(refused?.body).toMatchObject({ status: 'failure', code: 'UNAVAILABLE', message: expect.stringContaining('disk') });
    const topics = async () => (await rest.get('/topics')).body.topics as string[];
    const refusedName = `filling-the-manager-${(await topics()).filter((name) => name.startsWith('filling-the-manager-')).length}`;
    expect(await topics()).not.toContain(refusedName);
    expect((await rest.createTopic('on-a-full-manager', 1)).status).toBe(503);
    expect(await topics()).not.toContain('on-a-full-manager');

    rmSync(join(managerDir, BALLAST));
    await waitFor('the manager to take metadata changes again', async () => ((await rest.createTopic('on-a-full-manager', 1)).status === 201 ? true : undefined));
    // Its syncs to PostgreSQL run again too: an acks=all send is acknowledged only after one.
    await expect(producer.send('on-a-full-manager', { value: PAYLOAD }, { acks: 'all' })).resolves.toMatchObject({ partition: 0, offset: 0 });
  });

  /** Sends `count` messages spread over the topic's partitions, 2 000 at most in flight; returns the failures. */
  async function sendAll(topic: string, count: number): Promise<string[]> {
    const failures: string[] = [];
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < count; i++) {
      const sent = producer.send(topic, { value: PAYLOAD, key: `key-${i % 64}` }).catch((error: unknown) => {
        failures.push(error instanceof Error ? error.message : String(error));
      });
      inFlight.add(sent);
      void sent.finally(() => inFlight.delete(sent));
      if (inFlight.size >= 2000) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return failures;
  }

  /** The broker on the small disk (the second one started) and the other, as the admin API lists them. */
  async function brokersByDisk(): Promise<{ small: BrokerView; large: BrokerView }> {
    const smallUrl = new URL(cluster.find('broker', 2).spec.url).host;
    const brokers = await listBrokers(cluster);
    const small = brokers.find((b) => new URL(b.address).host === smallUrl);
    const large = brokers.find((b) => new URL(b.address).host !== smallUrl);
    if (!small || !large) throw new Error(`brokers not listed: ${JSON.stringify(brokers)}`);
    return { small, large };
  }

  function partitionsOf(broker: BrokerView, topic: string): number[] {
    return broker.partitions.filter((p) => p.topic === topic).map((p) => p.partition_id).sort();
  }

  /** partq_broker_disk_full of the broker on the small disk. */
  async function diskFullGauge(): Promise<number | undefined> {
    const text = await (await fetch(new URL('/metrics', cluster.find('broker', 2).spec.url))).text();
    const line = text.split('\n').find((l) => l.startsWith('partq_broker_disk_full'));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  function smallDiskDir(): string {
    return join(cluster.dataDir, 'broker-2');
  }

  /** Takes the room left on the disk holding `dir` but `leaveBytes`, with a file of its own. */
  function fillDisk(dir: string, leaveBytes: number): void {
    const { bavail, bsize } = statfsSync(dir);
    try {
      writeFileSync(join(dir, BALLAST), Buffer.alloc(Math.max(0, Number(bavail) * Number(bsize) - leaveBytes)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    }
  }
});
