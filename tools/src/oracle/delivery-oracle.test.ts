import { judgeDeliveries, totalOf, type AckedMessage, type DeliveredMessage } from './delivery-oracle.js';

/** The soak's way: one topic, every consumer subscribed to it, `ordered` producers judged for order. */
function judgeSoak(acked: AckedMessage[], delivered: DeliveredMessage[], consumers: string[], ordered: string[] = []) {
  return judgeDeliveries(acked, delivered, { consumers: new Map(consumers.map((c) => [c, undefined])), isOrdered: (p) => ordered.includes(p) });
}

function acked(producer: string, sequence: number, partition: number, offset: number, acks: 'all' | 'broker', ackedAt: number): AckedMessage {
  return { producer, sequence, partition, offset, acks, ackedAt };
}

function got(consumer: string, message: AckedMessage): DeliveredMessage {
  return { consumer, producer: message.producer, sequence: message.sequence, partition: message.partition, offset: message.offset };
}

describe('judgeDeliveries', () => {
  it('passes a run where every consumer received every acknowledged message once', () => {
    const messages = [acked('P', 0, 0, 0, 'broker', 1), acked('P', 1, 0, 1, 'all', 2)];
    const verdict = judgeSoak(messages, [...messages.map((m) => got('C1', m)), ...messages.map((m) => got('C2', m))], ['C1', 'C2']);
    expect(verdict).toMatchObject({ acked: 2, ok: true, violations: [] });
    expect(verdict.consumers['C1']).toEqual({ delivered: 2, duplicated: 0, redeliveredAfterLoss: 0, skipped: 0, lostWithBroker: 0, lostAcksAll: 0, outOfOrder: 0, reordered: 0 });
  });

  it('an acks=broker message whose offset went to a later one was lost with its broker: counted, allowed', () => {
    const lost = acked('P', 0, 0, 5, 'broker', 1);
    const reused = acked('P', 1, 0, 5, 'broker', 2);
    const verdict = judgeSoak([lost, reused], [got('C1', reused)], ['C1']);
    expect(verdict.ok).toBe(true);
    expect(verdict.consumers['C1']).toMatchObject({ lostWithBroker: 1, skipped: 0 });
  });

  it('a message still at its offset and never received was skipped; an acks=all one lost, or a duplicate, breaks the contract too', () => {
    const skipped = acked('P', 0, 0, 0, 'all', 1);
    const lostAll = acked('Q', 0, 1, 3, 'all', 1);
    const reuser = acked('Q', 1, 1, 3, 'broker', 2);
    const verdict = judgeSoak([skipped, lostAll, reuser], [got('C1', reuser), got('C1', reuser)], ['C1']);
    expect(verdict.ok).toBe(false);
    expect(verdict.consumers['C1']).toEqual({ delivered: 2, duplicated: 1, redeliveredAfterLoss: 0, skipped: 1, lostWithBroker: 0, lostAcksAll: 1, outOfOrder: 0, reordered: 0 });
    expect(verdict.violations).toEqual([
      'C1 received Q:1 twice (at 1/3, then at 1/3)',
      'C1 never received P:0 (acks=all), still at 0/0',
      'Q:0 (acks=all) was acknowledged at 1/3, and the log no longer holds it (that offset went to Q:1)',
    ]);
  });

  it('says where both copies of a duplicate were: a message stored twice shows two offsets', () => {
    const retried = acked('P', 7, 2, 12, 'broker', 2);
    const verdict = judgeSoak([retried], [{ ...got('C1', retried), offset: 10 }, got('C1', retried)], ['C1']);
    expect(verdict.violations).toEqual(['C1 received P:7 twice (at 2/10, then at 2/12)']);
  });

  it('a partition received out of offset order breaks the contract; only first copies count', () => {
    const messages = [acked('P', 0, 0, 10, 'broker', 1), acked('Q', 0, 0, 11, 'broker', 2), acked('P', 1, 1, 4, 'broker', 3)];
    const [p0, q0, p1] = messages as [AckedMessage, AckedMessage, AckedMessage];
    const verdict = judgeSoak(messages, [got('C1', q0), got('C1', p1), got('C1', p0), got('C2', p0), got('C2', q0), got('C2', p1), got('C2', p0)], ['C1', 'C2']);
    expect(verdict.ok).toBe(false);
    expect(verdict.consumers['C1']).toMatchObject({ outOfOrder: 1, duplicated: 0 });
    expect(verdict.consumers['C2']).toMatchObject({ outOfOrder: 0, duplicated: 1 });
    expect(verdict.violations).toEqual(['C1 received P:0 at 0/10 after 0/11', 'C2 received P:0 twice (at 0/10, then at 0/10)']);
  });

  it("an ordered producer's later message read before an earlier one of the same partition was reordered", () => {
    const first = acked('P', 0, 0, 8, 'broker', 2);
    const second = acked('P', 1, 0, 7, 'broker', 1);
    const otherPartition = acked('P', 2, 1, 0, 'broker', 3);
    const messages = [first, second, otherPartition];
    const deliveries = [got('C1', second), got('C1', first), got('C1', otherPartition)];
    const verdict = judgeSoak(messages, deliveries, ['C1'], ['P']);
    expect(verdict.ok).toBe(false);
    expect(verdict.consumers['C1']).toMatchObject({ reordered: 1, outOfOrder: 0, skipped: 0 });
    expect(verdict.violations).toEqual(['C1 received P:0 at 0/8 after P:1 at 0/7']);
    // A producer with several batches in flight does not promise that order.
    expect(judgeSoak(messages, deliveries, ['C1'], [])).toMatchObject({ ok: true, violations: [] });
  });

  it('a log cut back after a broker was lost is read anew, not out of order; a skipped offset read late is', () => {
    // A broker lost for good took P:1 and P:2 (acks=broker) at 0/6 and 0/7, and C1 had read them; the
    // next owner gave those offsets to Q:0 and Q:1, which C1 read next. That rewind is the loss the
    // contract allows, not disorder.
    const lost = [acked('P', 1, 0, 6, 'broker', 1), acked('P', 2, 0, 7, 'broker', 2)];
    const reusers = [acked('Q', 0, 0, 6, 'broker', 3), acked('Q', 1, 0, 7, 'broker', 4), acked('P', 3, 0, 8, 'broker', 5)];
    const verdict = judgeSoak([...lost, ...reusers], [...lost, ...reusers].map((m) => got('C1', m)), ['C1'], ['P', 'Q']);
    expect(verdict).toMatchObject({ ok: true, violations: [] });
    expect(verdict.consumers['C1']).toMatchObject({ outOfOrder: 0, reordered: 0, duplicated: 0 });
    // C2 read 0/8 before 0/7, an offset it had not read before.
    const late = judgeSoak(reusers, [got('C2', reusers[0]!), got('C2', reusers[2]!), got('C2', reusers[1]!)], ['C2']);
    expect(late.consumers['C2']).toMatchObject({ outOfOrder: 1 });
    expect(late.violations).toEqual(['C2 received Q:1 at 0/7 after 0/8']);
  });

  it('with topics, judges each consumer on the topics it subscribed to; a loss with a broker can be made a violation', () => {
    const onA = { ...acked('P', 0, 0, 3, 'broker', 1), topic: 'A' };
    const onB = { ...acked('P', 0, 0, 3, 'broker', 2), topic: 'B' };
    const lostOnB = { ...acked('Q', 0, 1, 0, 'broker', 3), topic: 'B' };
    const reuserOnB = { ...acked('Q', 1, 1, 0, 'broker', 4), topic: 'B' };
    const consumers = new Map<string, string[]>([
      ['CA', ['A']],
      ['CB', ['B']],
    ]);
    const delivered = [
      { ...got('CA', onA), topic: 'A' },
      { ...got('CB', onB), topic: 'B' },
      { ...got('CB', reuserOnB), topic: 'B' },
    ];
    const allowed = judgeDeliveries([onA, onB, lostOnB, reuserOnB], delivered, { consumers });
    expect(allowed).toMatchObject({ ok: true, violations: [] });
    expect(allowed.consumers['CA']).toMatchObject({ delivered: 1, skipped: 0, lostWithBroker: 0 });
    expect(allowed.consumers['CB']).toMatchObject({ delivered: 2, skipped: 0, lostWithBroker: 1 });
    const strict = judgeDeliveries([onA, onB, lostOnB, reuserOnB], delivered, { consumers, lossWithBrokerAllowed: false });
    expect(strict.ok).toBe(false);
    expect(strict.violations).toEqual(['B/Q:0 (acks=broker) was acknowledged at B/1/0, and the log no longer holds it (that offset went to B/Q:1)']);
    expect(totalOf(strict)).toMatchObject({ delivered: 3, lostWithBroker: 1, duplicated: 0 });
  });

  it('keeps five examples of each kind, so a flood of one leaves the others visible', () => {
    const messages = Array.from({ length: 8 }, (_, i) => acked('P', i, 0, i, 'broker', i));
    const skippedAlone = acked('Q', 0, 1, 0, 'all', 9);
    const delivered = messages.flatMap((m) => [got('C1', m), got('C1', m)]);
    const verdict = judgeSoak([...messages, skippedAlone], delivered, ['C1']);
    expect(verdict.consumers['C1']).toMatchObject({ duplicated: 8, skipped: 1 });
    expect(verdict.violations).toHaveLength(6);
    expect(verdict.violations.at(-1)).toBe('C1 never received Q:0 (acks=all), still at 1/0');
  });

  it('a message read from a broker later lost, then sent again by its producer, was redelivered after the loss: counted, allowed with acks=broker', () => {
    // K:1 was at 0/5 on a broker lost for good; C1 had read it (its answer had left the broker) but
    // its producer never got the answer. The next owner gave 0/4 and 0/5 to others, and the
    // producer's retry landed at 0/7.
    const before = [acked('P', 0, 0, 4, 'broker', 1)];
    const afterCut = [acked('Q', 0, 0, 4, 'broker', 3), acked('Q', 1, 0, 5, 'broker', 4), acked('Q', 2, 0, 6, 'broker', 5), acked('K', 1, 0, 7, 'broker', 6)];
    const firstCopy: DeliveredMessage = { consumer: 'C1', producer: 'K', sequence: 1, partition: 0, offset: 5 };
    const delivered = [got('C1', before[0]!), firstCopy, ...afterCut.map((m) => got('C1', m))];
    const verdict = judgeSoak([...before, ...afterCut], delivered, ['C1']);
    expect(verdict).toMatchObject({ ok: true, violations: [] });
    expect(verdict.consumers['C1']).toMatchObject({ duplicated: 0, redeliveredAfterLoss: 1, outOfOrder: 0 });
    // The retry may also land below the first copy: the cut is found as it is read.
    const lower = [acked('K', 1, 0, 4, 'broker', 3)];
    const lowerVerdict = judgeSoak([...before, ...lower], [got('C1', before[0]!), firstCopy, got('C1', lower[0]!)], ['C1']);
    expect(lowerVerdict.consumers['C1']).toMatchObject({ duplicated: 0, redeliveredAfterLoss: 1 });
    // Never for acks=all, nor where the fault tests allow no loss, nor without a cut.
    const all = afterCut.map((m) => (m.producer === 'K' ? { ...m, acks: 'all' as const } : m));
    expect(judgeSoak([...before, ...all], delivered, ['C1']).consumers['C1']).toMatchObject({ duplicated: 1, redeliveredAfterLoss: 0 });
    const strict = judgeDeliveries([...before, ...afterCut], delivered, { consumers: new Map([['C1', undefined]]), lossWithBrokerAllowed: false });
    expect(strict.consumers['C1']).toMatchObject({ duplicated: 1, redeliveredAfterLoss: 0 });
    const noCut = judgeSoak([acked('K', 1, 0, 7, 'broker', 6)], [firstCopy, got('C1', acked('K', 1, 0, 7, 'broker', 6))], ['C1']);
    expect(noCut.consumers['C1']).toMatchObject({ duplicated: 1, redeliveredAfterLoss: 0 });
  });

  it('a retry stored again at the very offset of its lost first copy is told from a double delivery by when each copy was stored', () => {
    // K:1 was at 0/5 on a broker lost for good, read by C1, and its retry landed at 0/5 again (the
    // producer resent its batches in order after the cut, so they took the same offsets).
    const retried = acked('K', 1, 0, 5, 'broker', 6);
    const lostCopy: DeliveredMessage = { ...got('C1', retried), storedAt: 1000 };
    const retryCopy: DeliveredMessage = { ...got('C1', retried), storedAt: 4000 };
    const verdict = judgeSoak([retried], [lostCopy, retryCopy], ['C1']);
    expect(verdict).toMatchObject({ ok: true, violations: [] });
    expect(verdict.consumers['C1']).toMatchObject({ duplicated: 0, redeliveredAfterLoss: 1 });
    // The same stored record twice is a duplicate delivery; so is one without timestamps to tell.
    expect(judgeSoak([retried], [lostCopy, { ...lostCopy }], ['C1']).consumers['C1']).toMatchObject({ duplicated: 1, redeliveredAfterLoss: 0 });
    expect(judgeSoak([retried], [got('C1', retried), got('C1', retried)], ['C1']).consumers['C1']).toMatchObject({ duplicated: 1 });
    // And never allowed for acks=all.
    const all = { ...retried, acks: 'all' as const };
    expect(judgeSoak([all], [lostCopy, retryCopy], ['C1']).consumers['C1']).toMatchObject({ duplicated: 1, redeliveredAfterLoss: 0 });
  });

  it('with the log read at the end, a message is skipped only where that reader found it, and lost where it did not', () => {
    // A broker lost for good took L:0..L:1 at 3/10..3/11; the cut-back log never grew past 3/9
    // again, so no later acknowledgement took those offsets. Only the end-of-run reader can tell.
    const lost = [acked('L', 0, 3, 10, 'broker', 1), acked('L', 1, 3, 11, 'broker', 2)];
    const skipped = acked('S', 0, 3, 12, 'broker', 3);
    const read = acked('R', 0, 3, 9, 'broker', 4);
    const messages = [...lost, skipped, read];
    const delivered = [got('C1', read)];
    const retainedAtEnd = [{ ...got('LOG', skipped), offset: 10 }];
    const verdict = judgeDeliveries(messages, delivered, { consumers: new Map([['C1', undefined]]), retainedAtEnd });
    expect(verdict.consumers['C1']).toMatchObject({ skipped: 1, lostWithBroker: 2 });
    expect(verdict.violations).toEqual(['C1 never received S:0 (acks=broker), still at 3/10']);
    // Without the reader, all three look skipped: nothing took their offsets.
    expect(judgeSoak(messages, delivered, ['C1']).consumers['C1']).toMatchObject({ skipped: 3, lostWithBroker: 0 });
  });
});
