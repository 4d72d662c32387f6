import { WaitRound } from './wait-round.js';

describe('WaitRound', () => {
  it('calls each listener still there once when it ends, and no one after', () => {
    const round = new WaitRound();
    const heard: string[] = [];
    const a = (): void => void heard.push('a');
    const b = (): void => void heard.push('b');
    const c = (): void => void heard.push('c');
    round.onOver(a);
    round.onOver(b);
    round.onOver(c);
    round.offOver(b);
    expect(round.over).toBe(false);
    round.end();
    round.end();
    expect(round.over).toBe(true);
    expect(heard).toEqual(['a', 'c']);
    // Too late: the round is over (a wait looks at `over` before it listens).
    round.onOver(() => heard.push('late'));
    round.end();
    expect(heard).toEqual(['a', 'c']);
  });

  it('lets a listener forget itself, or another, while the round ends', () => {
    const round = new WaitRound();
    const heard: string[] = [];
    const second = (): void => void heard.push('second');
    const first = (): void => {
      heard.push('first');
      round.offOver(first);
      round.offOver(second);
    };
    round.onOver(first);
    round.onOver(second);
    round.end();
    // Every listener registered when it ended is called: each wait gives up exactly once.
    expect(heard).toEqual(['first', 'second']);
  });
});
