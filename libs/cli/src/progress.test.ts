import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { Progress } from './progress.js';

describe('Progress', () => {
  it('reports the count and rate on each tick until stopped', async () => {
    const stderr = new PassThrough();
    let count = 1200;
    const progress = new Progress(stderr, (n, rate) => `produced ${n} messages (${rate}/s)`, () => count, 5);
    const [first] = (await once(stderr, 'data')) as [Buffer];
    expect(String(first)).toMatch(/^produced 1200 messages \(\d+\/s\)\n$/);
    count = 2400;
    const [second] = (await once(stderr, 'data')) as [Buffer];
    expect(String(second)).toMatch(/^produced 2400 messages/);
    progress.stop();
    stderr.end();
  });
});
