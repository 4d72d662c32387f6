import { mapWithLimit } from './map-with-limit.js';

describe('mapWithLimit', () => {
  it('runs at most `limit` calls at a time and answers in input order', async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithLimit([30, 5, 20, 1, 10, 2], 3, async (ms, index) => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, ms));
      running--;
      return `${index}:${ms}`;
    });
    expect(results).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10', '5:2']);
    expect(most).toBe(3);
  });

  it('takes no items without a call, and a limit under one as one', async () => {
    expect(await mapWithLimit([], 4, async () => 1)).toEqual([]);
    let running = 0;
    let most = 0;
    await mapWithLimit([1, 2, 3], 0, async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
    });
    expect(most).toBe(1);
  });

  it('rejects with the error of a call that throws, starting no more calls', async () => {
    const started: number[] = [];
    const failure = mapWithLimit([1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 2) throw new Error('item 2');
      await new Promise((resolve) => setImmediate(resolve));
      return item;
    });
    await expect(failure).rejects.toThrow('item 2');
    expect(started).not.toContain(5);
  });
});
