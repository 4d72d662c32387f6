import { isValidTopicName, MAX_TOPIC_NAME_LENGTH } from './topic-name.js';

describe('isValidTopicName', () => {
  it.each(['a', 'orders', 'Orders.v2', 'a_b-c.d', '...', '.a', '0', 'x'.repeat(MAX_TOPIC_NAME_LENGTH)])('accepts %j', (name) => {
    expect(isValidTopicName(name)).toBe(true);
  });

  it.each(['', '.', '..', 'x'.repeat(MAX_TOPIC_NAME_LENGTH + 1), 'a b', 'a/b', 'ä', 'a\n', 'topic*', 'a:b'])('rejects %j', (name) => {
    expect(isValidTopicName(name)).toBe(false);
  });

  it('rejects non-strings', () => {
    for (const value of [undefined, null, 42, {}, ['a']]) expect(isValidTopicName(value)).toBe(false);
  });
});
