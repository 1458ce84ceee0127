import { describe, expect, it } from 'vitest';
import { findRepeatedKey } from '../../src/lib/json-keys.js';

describe('findRepeatedKey', () => {
  it('names the first member given twice in one object, with its path', () => {
    expect(findRepeatedKey('{"amount":1,"currency":"EUR","amount":1000}')).toBe('amount');
    expect(findRepeatedKey('{"metadata":{"a":1,"b":{"c":2,"c":3}}}')).toBe('metadata.b.c');
    expect(findRepeatedKey('{"list":[{"k":1},{"k":1,"k":2}]}')).toBe('list.1.k');
    expect(findRepeatedKey('{"a":1,"\\u0061":2}')).toBe('a');
  });

  it('passes names repeated only across objects, and strings that look like names', () => {
    const bodies = [
      '{"x":{"k":1},"y":{"k":2},"k":3}',
      '{"a":"\\"b\\":1,\\"b\\":2","b":[{"a":1}]}',
      '[{"a":1},{"a":2}]',
      '{"a":[1,2,3],"b":{"c":[{"a":1}]}}',
      '{}',
      '"{\\"a\\":1,\\"a\\":2}"',
    ];
    for (const body of bodies) expect(findRepeatedKey(body), body).toBeUndefined();
  });
});
