import { choiceOption, integerOption, parseCliArgs } from './args.js';
import { CliError } from './cli-error.js';

function usage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError && error.code === 'USAGE') return error.message;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('parseCliArgs', () => {
  it('splits words and options, in any order, and remembers which options were given', () => {
    const parsed = parseCliArgs(['consume', '--from', 'latest', 'orders', '-f', '--url=http://h:1']);
    expect(parsed.positionals).toEqual(['consume', 'orders']);
    expect(parsed.values).toEqual({ from: 'latest', follow: true, url: 'http://h:1' });
    expect(parsed.given).toEqual(['from', 'follow', 'url']);
  });

  it('refuses unknown options and missing values with one short sentence', () => {
    expect(usage(() => parseCliArgs(['topics', 'list', '--bogus']))).toBe("Unknown option '--bogus'");
    expect(usage(() => parseCliArgs(['produce', 't', '--file']))).toMatch(/--file/);
  });
});

describe('option values', () => {
  it('reads integers within bounds and refuses the rest', () => {
    expect(integerOption({ partitions: '3' }, 'partitions', 1, 1024)).toBe(3);
    expect(integerOption({}, 'partitions', 1, 1024)).toBeUndefined();
    for (const bad of ['0', '1025', '-1', '2.5', 'three', '']) {
      expect(usage(() => integerOption({ partitions: bad }, 'partitions', 1, 1024))).toContain('--partitions must be an integer from 1 to 1024');
    }
  });

  it('reads one of a set of choices', () => {
    expect(choiceOption({ from: 'latest' }, 'from', ['earliest', 'latest'])).toBe('latest');
    expect(usage(() => choiceOption({ from: 'middle' }, 'from', ['earliest', 'latest']))).toBe('--from must be "earliest" or "latest", got "middle"');
  });
});
