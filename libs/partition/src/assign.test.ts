import { AssignmentError, assignPartitions, partitionKey, planDrain, rebalance, type PartitionPlacement } from './assign.js';

/** Small seeded PRNG so the property tests are deterministic. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCase(random: () => number, maxPartitions: number, maxBrokers: number) {
  const brokerPool = Array.from({ length: 1 + Math.floor(random() * maxBrokers) }, (_, i) => i + 1);
  const live = brokerPool.filter(() => random() < 0.75);
  if (live.length === 0) live.push(brokerPool[0]!);
  const partitions: PartitionPlacement[] = [];
  const topics = 1 + Math.floor(random() * 3);
  for (let t = 1; t <= topics; t++) {
    const count = Math.floor(random() * (maxPartitions / topics + 1));
    for (let p = 0; p < count; p++) {
      const roll = random();
      // Some unassigned, some on dead brokers (brokerPool minus live, or an id never seen), most on a random pool broker.
      const brokerId = roll < 0.1 ? null : roll < 0.15 ? 99 : brokerPool[Math.floor(random() * brokerPool.length)]!;
      partitions.push({ topicId: t, partitionId: p, brokerId });
    }
  }
  return { partitions, live };
}

function loads(assignment: Map<string, number>, live: number[]): number[] {
  const counts = new Map<number, number>(live.map((b) => [b, 0]));
  for (const broker of assignment.values()) counts.set(broker, (counts.get(broker) ?? 0) + 1);
  return [...counts.values()];
}

function movesBetween(partitions: PartitionPlacement[], assignment: Map<string, number>): number {
  return partitions.filter((p) => assignment.get(partitionKey(p.topicId, p.partitionId)) !== p.brokerId).length;
}

/** Oracle: the fewest moves of any balanced assignment, by trying every assignment (tiny cases only). */
function bruteForceMinimumMoves(partitions: PartitionPlacement[], live: number[]): number {
  let best = Infinity;
  const choice = new Array<number>(partitions.length).fill(0);
  const total = live.length ** partitions.length;
  for (let n = 0; n < total; n++) {
    let x = n;
    for (let i = 0; i < partitions.length; i++) {
      choice[i] = x % live.length;
      x = Math.floor(x / live.length);
    }
    const counts = live.map((_, b) => choice.filter((c) => c === b).length);
    if (Math.max(...counts) - Math.min(...counts) > 1) continue;
    const moves = partitions.filter((p, i) => live[choice[i]!] !== p.brokerId).length;
    best = Math.min(best, moves);
  }
  return best;
}

describe('assignPartitions', () => {
  it('keeps a balanced placement untouched', () => {
    const partitions = [
      { topicId: 1, partitionId: 0, brokerId: 1 },
      { topicId: 1, partitionId: 1, brokerId: 2 },
      { topicId: 1, partitionId: 2, brokerId: 3 },
      { topicId: 2, partitionId: 0, brokerId: 1 },
    ];
    expect(rebalance(partitions, [1, 2, 3])).toEqual([]);
  });

  it('places unassigned partitions on the least-loaded brokers, lowest id first', () => {
    const partitions = [0, 1, 2, 3].map((partitionId) => ({ topicId: 'orders', partitionId, brokerId: null }));
    const assignment = assignPartitions(partitions, [7, 3]);
    expect([...assignment.entries()]).toEqual([
      ['orders/0', 3],
      ['orders/1', 7],
      ['orders/2', 3],
      ['orders/3', 7],
    ]);
  });

  it('moves the partitions of a dead broker and nothing else', () => {
    const partitions = [
      { topicId: 1, partitionId: 0, brokerId: 1 },
      { topicId: 1, partitionId: 1, brokerId: 2 },
      { topicId: 1, partitionId: 2, brokerId: 3 },
      { topicId: 1, partitionId: 3, brokerId: 3 },
      { topicId: 1, partitionId: 4, brokerId: 1 },
      { topicId: 1, partitionId: 5, brokerId: 2 },
    ];
    expect(rebalance(partitions, [1, 2])).toEqual([
      { topicId: 1, partitionId: 2, from: 3, to: 1 },
      { topicId: 1, partitionId: 3, from: 3, to: 2 },
    ]);
  });

  it('sheds load from an overloaded broker onto a new one', () => {
    const partitions = [0, 1, 2, 3].map((partitionId) => ({ topicId: 1, partitionId, brokerId: 1 }));
    expect(rebalance(partitions, [1, 2])).toEqual([
      { topicId: 1, partitionId: 2, from: 1, to: 2 },
      { topicId: 1, partitionId: 3, from: 1, to: 2 },
    ]);
  });

  it('does not leave a broker two below another (6 partitions, 4 brokers)', () => {
    const partitions = [0, 1, 2, 3, 4, 5].map((partitionId) => ({ topicId: 1, partitionId, brokerId: 1 + (partitionId % 3) }));
    const assignment = assignPartitions(partitions, [1, 2, 3, 4]);
    expect(loads(assignment, [1, 2, 3, 4]).sort()).toEqual([1, 1, 2, 2]);
    expect(movesBetween(partitions, assignment)).toBe(1);
  });

  it('assigns nothing when no broker is live', () => {
    expect(assignPartitions([{ topicId: 1, partitionId: 0, brokerId: 1 }], []).size).toBe(0);
    expect(rebalance([{ topicId: 1, partitionId: 0, brokerId: 1 }], [])).toEqual([]);
  });

  it('property: every partition assigned once, to a live broker, balanced within 1', () => {
    const random = mulberry32(1);
    for (let i = 0; i < 300; i++) {
      const { partitions, live } = randomCase(random, 60, 8);
      const assignment = assignPartitions(partitions, live);
      expect(assignment.size).toBe(partitions.length);
      for (const broker of assignment.values()) expect(live).toContain(broker);
      const l = loads(assignment, live);
      expect(Math.max(...l) - Math.min(...l)).toBeLessThanOrEqual(1);
    }
  });

  it('property: keeps every partition that can stay, and moves the fewest any balanced assignment needs', () => {
    const random = mulberry32(2);
    for (let i = 0; i < 200; i++) {
      const { partitions, live } = randomCase(random, 6, 3);
      const assignment = assignPartitions(partitions, live);
      expect(movesBetween(partitions, assignment)).toBe(bruteForceMinimumMoves(partitions, live));
    }
  });

  it('property: deterministic, whatever the input order', () => {
    const random = mulberry32(3);
    for (let i = 0; i < 100; i++) {
      const { partitions, live } = randomCase(random, 40, 6);
      const shuffled = [...partitions].sort(() => random() - 0.5);
      const a = assignPartitions(partitions, live);
      const b = assignPartitions(shuffled, [...live].reverse());
      expect([...b.entries()].sort()).toEqual([...a.entries()].sort());
    }
  });

  it('property: applying the moves reaches a fixed point', () => {
    const random = mulberry32(4);
    for (let i = 0; i < 100; i++) {
      const { partitions, live } = randomCase(random, 40, 6);
      const assignment = assignPartitions(partitions, live);
      const after = partitions.map((p) => ({ ...p, brokerId: assignment.get(partitionKey(p.topicId, p.partitionId))! }));
      expect(rebalance(after, live)).toEqual([]);
      expect(rebalance(partitions, live)).toHaveLength(movesBetween(partitions, assignment));
    }
  });
});

describe('planDrain', () => {
  const partitions = [
    { topicId: 1, partitionId: 0, brokerId: 1 },
    { topicId: 1, partitionId: 1, brokerId: 1 },
    { topicId: 1, partitionId: 2, brokerId: 1 },
    { topicId: 1, partitionId: 3, brokerId: 2 },
    { topicId: 1, partitionId: 4, brokerId: 2 },
    { topicId: 1, partitionId: 5, brokerId: 3 },
  ];

  it('moves only the draining broker partitions, to the least-loaded others', () => {
    expect(planDrain(partitions, 1, [1, 2, 3])).toEqual([
      { topicId: 1, partitionId: 0, from: 1, to: 3 },
      { topicId: 1, partitionId: 1, from: 1, to: 2 },
      { topicId: 1, partitionId: 2, from: 1, to: 3 },
    ]);
  });

  it('is empty for a broker that holds nothing', () => {
    expect(planDrain(partitions, 4, [1, 2, 3, 4])).toEqual([]);
  });

  it('throws when there is nowhere to go', () => {
    expect(() => planDrain(partitions, 1, [1])).toThrow(AssignmentError);
    const thrown = (() => {
      try {
        planDrain(partitions, 1, []);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(AssignmentError);
    expect((thrown as AssignmentError).code).toBe('NO_TARGET_BROKER');
  });
});
