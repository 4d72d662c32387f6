/** Topics are identified by a database id or a name; both work as map keys. */
export type TopicId = number | string;

export interface PartitionPlacement {
  topicId: TopicId;
  partitionId: number;
  /** The broker that owns the partition now, or null when nobody does. */
  brokerId: number | null;
}

export interface PartitionMove {
  topicId: TopicId;
  partitionId: number;
  from: number | null;
  to: number;
}

/** Raised when a plan has nowhere to put partitions. */
export class AssignmentError extends Error {
  override readonly name = 'AssignmentError';
  constructor(
    readonly code: 'NO_TARGET_BROKER',
    message: string,
  ) {
    super(message);
  }
}

/** The key used in assignment maps. */
export function partitionKey(topicId: TopicId, partitionId: number): string {
  return `${topicId}/${partitionId}`;
}

/**
 * Computes a sticky, balanced assignment of every partition to a live broker.
 *
 * Balanced: with P partitions and B live brokers, every broker ends with floor(P/B) or ceil(P/B).
 * Sticky: a partition stays on its live broker unless that broker is above its share. The P mod B
 * brokers allowed the larger share are those already holding the most (ties: lower broker id), which
 * makes the number of moves the least any balanced assignment needs.
 * Deterministic: the same input (in any order) gives the same output.
 *
 * With no live broker nothing can be placed and the map is empty.
 */
export function assignPartitions(partitions: readonly PartitionPlacement[], liveBrokers: readonly number[]): Map<string, number> {
  const brokers = [...new Set(liveBrokers)].sort((a, b) => a - b);
  const result = new Map<string, number>();
  if (brokers.length === 0) return result;

  const ordered = uniqueSorted(partitions);
  const held = new Map<number, PartitionPlacement[]>(brokers.map((b) => [b, []]));
  const homeless: PartitionPlacement[] = [];
  for (const p of ordered) {
    const list = p.brokerId === null ? undefined : held.get(p.brokerId);
    if (list) list.push(p);
    else homeless.push(p);
  }

  const quota = quotas(brokers, held, ordered.length);
  const load = new Map<number, number>();
  for (const broker of brokers) {
    const mine = held.get(broker)!;
    const keep = quota.get(broker)!;
    // Keep the lowest-ordered partitions, release the rest: deterministic and independent of input order.
    mine.slice(0, keep).forEach((p) => result.set(partitionKey(p.topicId, p.partitionId), broker));
    homeless.push(...mine.slice(keep));
    load.set(broker, Math.min(mine.length, keep));
  }

  for (const p of uniqueSorted(homeless)) {
    const target = leastLoaded(brokers, load, quota);
    result.set(partitionKey(p.topicId, p.partitionId), target);
    load.set(target, load.get(target)! + 1);
  }
  return result;
}

/** The moves that take the current placement to `assignPartitions(...)`, in partition order. */
export function rebalance(partitions: readonly PartitionPlacement[], liveBrokers: readonly number[]): PartitionMove[] {
  const assignment = assignPartitions(partitions, liveBrokers);
  const moves: PartitionMove[] = [];
  for (const p of uniqueSorted(partitions)) {
    const to = assignment.get(partitionKey(p.topicId, p.partitionId));
    if (to !== undefined && to !== p.brokerId) {
      moves.push({ topicId: p.topicId, partitionId: p.partitionId, from: p.brokerId, to });
    }
  }
  return moves;
}

/**
 * Moves every partition off `drainingBrokerId`, one at a time to the least-loaded other live broker
 * (ties: lower broker id). Nothing else moves, so a drain never disturbs partitions that are fine
 * where they are; run `rebalance` afterwards to even out a cluster that was unbalanced before.
 * Throws AssignmentError('NO_TARGET_BROKER') when the draining broker holds partitions and no other
 * live broker exists.
 */
export function planDrain(
  partitions: readonly PartitionPlacement[],
  drainingBrokerId: number,
  liveBrokers: readonly number[],
): PartitionMove[] {
  const targets = [...new Set(liveBrokers)].filter((b) => b !== drainingBrokerId).sort((a, b) => a - b);
  const ordered = uniqueSorted(partitions);
  const draining = ordered.filter((p) => p.brokerId === drainingBrokerId);
  if (draining.length === 0) return [];
  if (targets.length === 0) {
    throw new AssignmentError('NO_TARGET_BROKER', `cannot drain broker ${drainingBrokerId}: no other live broker`);
  }

  const load = new Map<number, number>(targets.map((b) => [b, 0]));
  for (const p of ordered) {
    if (p.brokerId !== null && load.has(p.brokerId)) load.set(p.brokerId, load.get(p.brokerId)! + 1);
  }
  return draining.map((p) => {
    const to = leastLoaded(targets, load);
    load.set(to, load.get(to)! + 1);
    return { topicId: p.topicId, partitionId: p.partitionId, from: drainingBrokerId, to };
  });
}

/** How many partitions each broker should end with: floor(P/B), plus one for the P mod B brokers holding the most. */
function quotas(brokers: readonly number[], held: Map<number, PartitionPlacement[]>, total: number): Map<number, number> {
  const base = Math.floor(total / brokers.length);
  let extra = total % brokers.length;
  const quota = new Map<number, number>(brokers.map((b) => [b, base]));
  const byHolding = [...brokers].sort((a, b) => held.get(b)!.length - held.get(a)!.length || a - b);
  for (const broker of byHolding) {
    if (extra === 0) break;
    quota.set(broker, base + 1);
    extra--;
  }
  return quota;
}

/** The broker with the lowest load (below its quota when quotas are given); ties go to the lower id. */
function leastLoaded(brokers: readonly number[], load: Map<number, number>, quota?: Map<number, number>): number {
  let best: number | undefined;
  for (const broker of brokers) {
    const l = load.get(broker)!;
    if (quota && l >= quota.get(broker)!) continue;
    if (best === undefined || l < load.get(best)!) best = broker;
  }
  // Quotas add up to the partition count, so a free slot always exists.
  if (best === undefined) throw new Error('internal: no broker has room left');
  return best;
}

/** Partitions in (topicId, partitionId) order, first occurrence of each kept. */
function uniqueSorted(partitions: readonly PartitionPlacement[]): PartitionPlacement[] {
  const seen = new Map<string, PartitionPlacement>();
  for (const p of partitions) {
    const key = partitionKey(p.topicId, p.partitionId);
    if (!seen.has(key)) seen.set(key, p);
  }
  return [...seen.values()].sort(comparePlacement);
}

function comparePlacement(a: PartitionPlacement, b: PartitionPlacement): number {
  if (a.topicId !== b.topicId) {
    // Numbers before strings, numbers numerically, strings by code unit.
    if (typeof a.topicId === 'number' && typeof b.topicId === 'number') return a.topicId - b.topicId;
    if (typeof a.topicId === 'number') return -1;
    if (typeof b.topicId === 'number') return 1;
    return a.topicId < b.topicId ? -1 : 1;
  }
  return a.partitionId - b.partitionId;
}
