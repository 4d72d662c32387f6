import { typeMismatch } from './strict-json-types.js';

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    count: { type: 'integer' },
    items: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'object', properties: { n: { type: 'integer' } } }] } },
  },
};

describe('typeMismatch', () => {
  test('accepts values that already have their JSON type, and ignores absent or unknown fields', () => {
    expect(typeMismatch(schema, { name: 'x', count: 3, items: ['a', { n: 1 }], extra: true }, 'body')).toBeUndefined();
    expect(typeMismatch(schema, {}, 'body')).toBeUndefined();
  });

  test.each([
    [{ name: 5 }, 'body/name must be a string'],
    [{ count: '3' }, 'body/count must be an integer'],
    [{ count: 1.5 }, 'body/count must be an integer'],
    [{ items: 'a' }, 'body/items must be an array'],
    [{ items: ['a', 7] }, 'body/items/1 must be a string'],
    [{ items: [{ n: '1' }] }, 'body/items/0 must be a string'],
  ])('names the first value a coercion would have changed: %j', (value, message) => {
    expect(typeMismatch(schema, value, 'body')).toBe(message);
  });

  test('a non-object body is refused', () => {
    expect(typeMismatch(schema, ['x'], 'body')).toBe('body must be an object');
    expect(typeMismatch(schema, null, 'body')).toBe('body must be an object');
  });
});
