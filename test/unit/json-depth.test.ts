import { canonicalJson } from '../../packages/core/src/canonical-json';
import { findTooDeep } from '../../packages/core/src/json-depth';
import { findUnsafeString } from '../../packages/core/src/schemas';

/** `n` arrays nested in one another, built without recursion. */
function nestedArrays(n: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

/** Issue 10 item 13: no walk over a client's data may overflow the stack, however deep the data. */
describe('walks over deeply nested JSON', () => {
  const deep = nestedArrays(100_000);

  it('findTooDeep names the first container past the limit (the root is depth 1)', () => {
    expect(findTooDeep({ a: 1 }, 1)).toBeNull();
    expect(findTooDeep({ a: {} }, 1)).toEqual(['a']);
    expect(findTooDeep({ a: [1, { b: [] }] }, 3)).toEqual(['a', '1', 'b']);
    expect(findTooDeep({ a: [1, { b: [] }] }, 4)).toBeNull();
    expect(findTooDeep('scalar', 1)).toBeNull();
    expect(findTooDeep(deep, 64)).toEqual(Array<string>(64).fill('0'));
    // Siblings are visited in order: the first offending path is named.
    expect(findTooDeep({ x: [[1]], y: [[[1]]], z: [[[[1]]]] }, 3)).toEqual(['y', '0', '0']);
  });

  it('findUnsafeString walks 100,000 levels without a RangeError', () => {
    expect(findUnsafeString(deep)).toBeNull();
    expect(findUnsafeString(nestedArrays(100_000, 'a\u0000'))).toHaveLength(100_000);
    expect(findUnsafeString({ a: ['ok', { '\ud800': 1 }] })).toEqual(['a', '1', '\ud800']);
    expect(findUnsafeString({ a: 'ok', b: ['x', 'y\ud800'] })).toEqual(['b', '1']);
  });

  it('canonicalJson serialises 100,000 levels without a RangeError', () => {
    const s = canonicalJson(deep);
    expect(s).toBe('['.repeat(100_000) + '1' + ']'.repeat(100_000));
  });

  it('canonicalJson sorts object keys at every depth and otherwise matches JSON.stringify', () => {
    const samples: unknown[] = [
      null, 0, -1.5, 1e308, 'x', '\ud800', true, [], {}, [1, 'a', null, [2, [3]]],
      { b: 1, a: { d: [{ z: 1, y: 2 }], c: null } },
      { u: undefined, f: () => 1, n: NaN, i: Infinity, arr: [undefined, () => 1, NaN] },
      { d: new Date(0) },
      { __proto__: null, b: 2, a: 1 },
    ];
    const sortedCopy = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x)));
    for (const v of samples) expect(canonicalJson(v)).toBe(JSON.stringify(sortedCopy(v)));
    expect(canonicalJson({ b: 1, a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":1}');
    // As the recursive version wrote it (stored idempotency fingerprints depend on it): `__proto__` left out.
    expect(canonicalJson(JSON.parse('{"__proto__": {"x": 1}, "a": 2}'))).toBe('{"a":2}');
  });
});
