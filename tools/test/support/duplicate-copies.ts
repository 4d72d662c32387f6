import type { Workload } from './course-workload.js';

/**
 * One line per message a consumer got more than once, with the offsets of its copies and the offset
 * its produce was acknowledged at: two offsets mean a retried append landed twice, one offset a
 * delivery that was replayed.
 */
export function describeDuplicates(workload: Workload): string[] {
  const copies = new Map<string, { consumer: string; message: string; offsets: string[] }>();
  for (const d of workload.delivered) {
    const message = `${d.topic}/${d.producer}/${d.sequence}`;
    const key = `${d.consumer} ${message}`;
    const entry = copies.get(key) ?? { consumer: d.consumer, message, offsets: [] };
    entry.offsets.push(`partition ${d.partition} offset ${d.offset}`);
    copies.set(key, entry);
  }
  const lines: string[] = [];
  for (const { consumer, message, offsets } of copies.values()) {
    if (offsets.length < 2) continue;
    const ack = workload.acked.find((a) => `${a.topic}/${a.producer}/${a.sequence}` === message);
    lines.push(`${consumer} got ${message} at ${offsets.join(', ')} (acknowledged at partition ${ack?.partition} offset ${ack?.offset})`);
  }
  return lines;
}
