import { Writable } from 'node:stream';
import { createLogger } from './create-logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON lines carrying role and instance', () => {
    const { lines, stream } = capture();
    const log = createLogger({ role: 'manager', instanceId: 'm-1', destination: stream });
    log.info({ topic: 'orders' }, 'topic created');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'info', role: 'manager', instance: 'm-1', topic: 'orders', msg: 'topic created' });
    expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
  });

  it('honours the level, and child loggers keep the base fields', () => {
    const { lines, stream } = capture();
    const log = createLogger({ role: 'broker', instanceId: 'b-2', level: 'warn', destination: stream });
    log.info('dropped');
    log.child({ partition: 3 }).warn('kept');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', role: 'broker', instance: 'b-2', partition: 3, msg: 'kept' });
  });
});
