import { judgeSoak, type AckedMessage, type DeliveredMessage } from './soak-oracle.js';

function acked(producer: string, sequence: number, partition: number, offset: number, acks: 'all' | 'broker', ackedAt: number): AckedMessage {
  return { producer, sequence, partition, offset, acks, ackedAt };
}

function got(consumer: string, message: AckedMessage): DeliveredMessage {
  return { consumer, producer: message.producer, sequence: message.sequence, partition: message.partition, offset: message.offset };
}

describe('judgeSoak', () => {
  it('passes a run where every consumer received every acknowledged message once', () => {
    const messages = [acked('P', 0, 0, 0, 'broker', 1), acked('P', 1, 0, 1, 'all', 2)];
    const verdict = judgeSoak(messages, [...messages.map((m) => got('C1', m)), ...messages.map((m) => got('C2', m))], ['C1', 'C2']);
    expect(verdict).toMatchObject({ acked: 2, ok: true, violations: [] });
    expect(verdict.consumers['C1']).toEqual({ delivered: 2, duplicated: 0, skipped: 0, lostWithBroker: 0, lostAcksAll: 0 });
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
    expect(verdict.consumers['C1']).toEqual({ delivered: 2, duplicated: 1, skipped: 1, lostWithBroker: 0, lostAcksAll: 1 });
    expect(verdict.violations).toEqual([
      'C1 received Q:1 twice (at 1/3, then at 1/3)',
      'C1 never received P:0 (acks=all), still at 0/0',
      'Q:0 (acks=all) was acknowledged at 1/3, then that offset went to Q:1',
    ]);
  });

  it('says where both copies of a duplicate were: a message stored twice shows two offsets', () => {
    const retried = acked('P', 7, 2, 12, 'broker', 2);
    const verdict = judgeSoak([retried], [{ ...got('C1', retried), offset: 10 }, got('C1', retried)], ['C1']);
    expect(verdict.violations).toEqual(['C1 received P:7 twice (at 2/10, then at 2/12)']);
  });
});
