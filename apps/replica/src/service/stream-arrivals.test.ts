import { create } from '@bufbuild/protobuf';
import { MetadataView } from '@partq/cluster';
import { BrokerSchema, BrokerState, MetadataSchema, PartitionSchema, TopicSchema, type Partition } from '@partq/proto';
import type { RecordWatch, WaitOutcome } from '../fetch/record-watch.js';
import type { WaitRound } from '../fetch/wait-round.js';
import { ArrivalWatch } from './arrival-watch.js';
import type { StreamArrivals } from './stream-arrivals.js';

const TOPIC = 1;
const COUNT = 4;
const IDS = [0, 1, 2, 3];

/** A wait asked of the stand-in owner; the test answers it. */
interface AskedWait {
  partitionId: number;
  offset: number;
  round: WaitRound;
  answered: boolean;
  answer(outcome: WaitOutcome): void;
}

/** A RecordWatch whose waits the test answers by hand (the real ones need a broker: see test/consume-stream). */
class ScriptedWatch implements RecordWatch {
  readonly asked: AskedWait[] = [];

  wait(partition: Partition, _address: string, offset: number, _maxWaitMs: number, round: WaitRound): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      const asked: AskedWait = {
        partitionId: partition.partitionId,
        offset,
        round,
        answered: false,
        answer: (outcome) => {
          asked.answered = true;
          resolve(outcome);
        },
      };
      this.asked.push(asked);
      round.onOver(() => asked.answer('idle'));
    });
  }

  close(): void {}

  /** The waits neither answered nor given up, by partition. */
  standing(): number[] {
    return this.asked.filter((wait) => !wait.answered && !wait.round.over).map((wait) => wait.partitionId);
  }

  last(partitionId: number): AskedWait {
    const found = this.asked.filter((wait) => wait.partitionId === partitionId).at(-1);
    if (!found) throw new Error(`no wait at partition ${partitionId}`);
    return found;
  }
}

const partition = (partitionId: number, brokerId = 1, epoch = 1, highWatermark = 0n) =>
  create(PartitionSchema, { topicId: TOPIC, partitionId, brokerId, epoch, highWatermark });
const broker = (id: number, state = BrokerState.ALIVE) => create(BrokerSchema, { id, address: `http://127.0.0.1:710${id}`, state });

let view: MetadataView;
let watch: ScriptedWatch;
let arrivals: StreamArrivals;
let version = 1;

/** Waits at every partition found empty, at offset 10 + its id. */
function watchAll(): void {
  arrivals.watch((id) => {
    const at = view.partition(TOPIC, id);
    return at ? { partition: at, offset: 10 + id } : undefined;
  });
}

/** Lets the answers' callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function emptyEverywhere(): void {
  for (const id of arrivals.candidates()) arrivals.nothingAt(id);
  watchAll();
}

beforeEach(() => {
  view = new MetadataView();
  view.apply(
    create(MetadataSchema, {
      topics: [create(TopicSchema, { id: TOPIC, name: 't', partitionCount: COUNT })],
      partitions: IDS.map((id) => partition(id, id === 3 ? 2 : 1)),
      brokers: [broker(1), broker(2)],
    }),
    version++,
    true,
  );
  watch = new ScriptedWatch();
  arrivals = new ArrivalWatch({ view, waiter: watch, recheckMs: 20 }).follow(TOPIC, IDS);
});

afterEach(() => arrivals.close());

describe('StreamArrivals', () => {
  it('looks at every partition from its source first, then waits once at each found empty', () => {
    expect(arrivals.candidates()).toEqual(IDS);
    expect(IDS.every((id) => arrivals.fromSource(id))).toBe(true);
    emptyEverywhere();
    expect(arrivals.candidates()).toEqual([]);
    expect(watch.asked.map((wait) => [wait.partitionId, wait.offset])).toEqual([[0, 10], [1, 11], [2, 12], [3, 13]]);
    expect(arrivals.hasUnwatched).toBe(false);
    // Waiting again asks nothing new: the waits outlive the call.
    watchAll();
    expect(watch.asked).toHaveLength(COUNT);
  });

  it('names only the partitions whose wait answered; the other waits stand', async () => {
    emptyEverywhere();
    watch.last(2).answer('cached');
    await settle();
    expect(arrivals.candidates()).toEqual([2]);
    expect(arrivals.fromSource(2)).toBe(false);
    expect(watch.standing()).toEqual([0, 1, 3]);

    // It delivers, and stays to be looked at until it is found empty; then it is waited on again.
    arrivals.delivered(2);
    expect(arrivals.candidates()).toEqual([2]);
    arrivals.nothingAt(2);
    watchAll();
    expect(watch.asked).toHaveLength(COUNT + 1);
    expect(watch.standing()).toEqual([0, 1, 3, 2]);
  });

  it('reads a partition from its source when its wait says so, or after a failed wait and the re-check', async () => {
    emptyEverywhere();
    watch.last(0).answer('at-source');
    watch.last(1).answer('unavailable');
    watch.last(3).answer('idle');
    await settle();
    expect(arrivals.candidates()).toEqual([0, 3]);
    expect([arrivals.fromSource(0), arrivals.fromSource(3)]).toEqual([true, false]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(arrivals.candidates()).toEqual([0, 1, 3]);
    expect(arrivals.fromSource(1)).toBe(true);
  });

  it('after a delivery, the partitions still to be read from their source are waited on instead', () => {
    arrivals.nothingAt(0);
    arrivals.delivered(1);
    expect(arrivals.candidates()).toEqual([1]);
    expect(arrivals.fromSource(1)).toBe(false);
    watchAll();
    expect(watch.standing()).toEqual([0, 2, 3]);
  });

  it('re-checks a partition no broker can be asked about, from its source', async () => {
    view.apply(create(MetadataSchema, { brokers: [broker(2, BrokerState.DEAD)] }), version++, false);
    emptyEverywhere();
    expect(watch.standing()).toEqual([0, 1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(arrivals.candidates()).toEqual([3]);
    expect(arrivals.fromSource(3)).toBe(true);
  });

  it('passes over metadata changes that move high watermarks; an owner change makes it look everywhere again', async () => {
    emptyEverywhere();
    view.apply(create(MetadataSchema, { partitions: [partition(1, 1, 1, 50n)] }), version++, false);
    expect(watch.standing()).toEqual(IDS);
    expect(arrivals.candidates()).toEqual([]);

    view.apply(create(MetadataSchema, { partitions: [partition(1, 2, 2, 50n)] }), version++, false);
    expect(watch.standing()).toEqual([]);
    expect(arrivals.candidates()).toEqual(IDS);
    expect(IDS.every((id) => arrivals.fromSource(id))).toBe(true);
    // An answer to a wait given up counts for nothing.
    watch.last(0).answer('cached');
    await settle();
    expect(arrivals.fromSource(0)).toBe(true);
  });

  it('looks everywhere again when the consumer\'s positions were reloaded (moved elsewhere)', () => {
    const positions = new Map([[0, 10]]);
    arrivals.seePositions(positions);
    emptyEverywhere();
    arrivals.seePositions(positions);
    expect(arrivals.candidates()).toEqual([]);
    arrivals.seePositions(new Map(positions));
    expect(arrivals.candidates()).toEqual(IDS);
    expect(watch.standing()).toEqual([]);
  });

  it('next() resolves at once with news, when a wait answers, or at the deadline', async () => {
    const never = new AbortController().signal;
    await expect(arrivals.next(Date.now() + 10_000, never)).resolves.toBe('news');
    emptyEverywhere();
    const woken = arrivals.next(Date.now() + 10_000, never);
    watch.last(1).answer('cached');
    await expect(woken).resolves.toBe('news');
    arrivals.nothingAt(1);
    watchAll();
    const started = Date.now();
    await expect(arrivals.next(Date.now() + 30, never)).resolves.toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    const stop = new AbortController();
    const stopped = arrivals.next(Date.now() + 10_000, stop.signal);
    stop.abort();
    await expect(stopped).resolves.toBe('timeout');
  });

  it('close ends every wait', () => {
    emptyEverywhere();
    arrivals.close();
    expect(watch.standing()).toEqual([]);
    arrivals.nothingAt(0);
    watchAll();
    expect(watch.asked).toHaveLength(COUNT);
  });
});
