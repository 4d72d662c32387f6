import { create } from '@bufbuild/protobuf';
import { MetadataView } from '@partq/cluster';
import { MetadataSchema, ReplicaSchema, ReplicaService } from '@partq/proto';
import { isSupersededRun, PartqError, supersededRunError } from '@partq/runtime';
import type { MetadataRefresher } from '../cluster/metadata-refresher.js';
import { PeerClients } from '../cluster/peer-clients.js';
import { ReplicaRouter } from './replica-router.js';

const quiet = { warn: () => undefined, debug: () => undefined };

function routerWith(replicaIds: number[], refresh: () => Promise<boolean> = async () => false): ReplicaRouter {
  const view = new MetadataView();
  view.apply(create(MetadataSchema, { replicas: replicaIds.map((id) => create(ReplicaSchema, { id, address: `127.0.0.1:${10000 + id}` })) }), 1, true);
  const refresher = { tryRefresh: refresh } as unknown as MetadataRefresher;
  return new ReplicaRouter({ view, refresher, replicas: new PeerClients(ReplicaService), logger: quiet });
}

describe('ReplicaRouter', () => {
  test('orders replicas the same way for the same consumer, differently across consumers', () => {
    const router = routerWith([1, 2, 3, 4]);
    const firsts = new Set<number>();
    for (let consumerId = 1; consumerId <= 40; consumerId++) {
      const order = router.order(consumerId).map((r) => r.id);
      expect(router.order(consumerId).map((r) => r.id)).toEqual(order);
      expect([...order].sort()).toEqual([1, 2, 3, 4]);
      firsts.add(order[0]!);
    }
    expect(firsts.size).toBe(4);
  });

  test('a replica joining moves only the consumers it now wins', () => {
    const before = routerWith([1, 2, 3]);
    const after = routerWith([1, 2, 3, 4]);
    for (let consumerId = 1; consumerId <= 100; consumerId++) {
      const winner = after.order(consumerId)[0]!.id;
      if (winner !== 4) expect(winner).toBe(before.order(consumerId)[0]!.id);
    }
  });

  test('moves to the next replica on UNAVAILABLE, and tries the failed one last for a while', async () => {
    const router = routerWith([1, 2, 3]);
    const [preferred, second] = router.order(5);
    const tried: number[] = [];
    const result = await router.call(5, async (_client, replica) => {
      tried.push(replica.id);
      if (replica.id === preferred!.id) throw new PartqError('UNAVAILABLE', 'down');
      return replica.id;
    });
    expect(tried).toEqual([preferred!.id, second!.id]);
    expect(result).toBe(second!.id);
    expect(router.order(5).at(-1)!.id).toBe(preferred!.id);
  });

  test('other errors are the answer, not a reason to move', async () => {
    const router = routerWith([1, 2]);
    const tried: number[] = [];
    await expect(
      router.call(1, async (_client, replica) => {
        tried.push(replica.id);
        throw new PartqError('NOT_FOUND', 'no such consumer');
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(tried).toHaveLength(1);
  });

  test('a stream its client superseded ends UNAVAILABLE like a broken one, but is no warning', async () => {
    const logged: string[] = [];
    const view = new MetadataView();
    view.apply(create(MetadataSchema, { replicas: [create(ReplicaSchema, { id: 1, address: '127.0.0.1:10001' })] }), 1, true);
    const router = new ReplicaRouter({
      view,
      refresher: { tryRefresh: async () => false } as unknown as MetadataRefresher,
      replicas: new PeerClients(ReplicaService),
      logger: { warn: () => void logged.push('warn'), debug: () => void logged.push('debug') },
    });
    const endingWith = async (failure: PartqError): Promise<unknown> => {
      const relayed = router.stream(1, new AbortController().signal, async function* () {
        yield 'delivery';
        throw failure;
      });
      try {
        for await (const item of relayed) expect(item).toBe('delivery');
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const superseded = await endingWith(supersededRunError('taken over'));
    expect(superseded).toMatchObject({ code: 'UNAVAILABLE' });
    // Still marked, so the gateway's own metrics count it as the client's end, not as an error.
    expect(isSupersededRun(superseded as PartqError)).toBe(true);
    const broken = await endingWith(new PartqError('UNAVAILABLE', 'the path broke'));
    expect(broken).toMatchObject({ code: 'UNAVAILABLE' });
    expect(isSupersededRun(broken as PartqError)).toBe(false);
    expect(logged).toEqual(['debug', 'warn']);
  });

  test('a run superseded before its first item is not a reason to try the next replica', async () => {
    const router = routerWith([1, 2]);
    const tried: number[] = [];
    const relayed = router.stream(3, new AbortController().signal, (_client, replica) => {
      tried.push(replica.id);
      return (async function* (): AsyncGenerator<string> {
        throw supersededRunError('released');
      })();
    });
    await expect(relayed.next()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(tried).toHaveLength(1);
    expect(router.order(3)[0]!.id).toBe(tried[0]);
  });

  test('no replica at all is UNAVAILABLE, after asking the manager', async () => {
    let asked = 0;
    const router = routerWith([], async () => {
      asked++;
      return true;
    });
    await expect(router.call(1, async () => 'never')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(asked).toBe(1);
  });
});
