/**
 * The fault tests' judge: every acknowledged message must reach every consumer of its
 * topic exactly once, and each producer's messages must keep their order per partition.
 */
export interface Acked {
  topic: string;
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
  /** When the acknowledgement arrived (ms since the epoch). */
  ackedAt?: number;
}

export interface Delivered {
  consumer: string;
  topic: string;
  producer: string;
  sequence: number;
  partition: number;
  offset: number;
}

export interface OracleReport {
  acked: number;
  delivered: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
  examples: string[];
}

export function judge(acked: Acked[], delivered: Delivered[], subscriptions: Map<string, string[]>): OracleReport {
  const report: OracleReport = { acked: acked.length, delivered: delivered.length, lost: 0, duplicated: 0, outOfOrder: 0, examples: [] };
  const note = (text: string): void => void (report.examples.length < 10 && report.examples.push(text));
  for (const [consumer, topics] of subscriptions) {
    const mine = delivered.filter((d) => d.consumer === consumer);
    const seen = new Map<string, number>();
    const lastSequence = new Map<string, number>();
    for (const d of mine) {
      const id = `${d.topic}/${d.producer}/${d.sequence}`;
      seen.set(id, (seen.get(id) ?? 0) + 1);
      if (seen.get(id) === 2) {
        report.duplicated++;
        note(`${consumer} got ${id} twice`);
      }
      const stream = `${d.topic}/${d.producer}/${d.partition}`;
      if ((lastSequence.get(stream) ?? -1) > d.sequence) {
        report.outOfOrder++;
        note(`${consumer} got ${id} after a later message of ${stream}`);
      }
      lastSequence.set(stream, Math.max(lastSequence.get(stream) ?? -1, d.sequence));
    }
    for (const a of acked.filter((x) => topics.includes(x.topic))) {
      if (!seen.has(`${a.topic}/${a.producer}/${a.sequence}`)) {
        report.lost++;
        note(`${consumer} never got ${a.topic}/${a.producer}/${a.sequence} (partition ${a.partition} offset ${a.offset})`);
      }
    }
  }
  return report;
}
