import fc from 'fast-check';
import { canonicalJson } from '../../packages/core/src/canonical-json';

/**
 * The recursive canonicalJson as it was before issue 10 item 13 (57e2ed0), verbatim: the stored idempotency
 * fingerprints were made with it, so the iterative version must write exactly what it wrote, or a replay made
 * across the deploy gets 409.
 */
function oldCanonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

describe('canonicalJson writes what the old recursive version wrote', () => {
  const bodies = [
    '{"b":1,"a":2}',
    '{"10":"ten","9":"nine","b":1,"a":2,"1":"one","0":"zero"}',
    '{"payload":{"items":{"2":[{"z":1,"y":2}],"10":[[{"b":{"11":1,"100":2}}]],"x":null}}}',
    '{"01":1,"1":2,"-1":3,"1.5":4,"1e3":5," 1":6,"4294967294":7,"4294967295":8,"4294967296":9,"00":10,"0":11}',
    '{"__proto__":{"polluted":true},"a":1}',
    '{"__proto__":1,"a":{"__proto__":[1,2]}}',
    '{"a":{"__proto__":null,"b":"c"}}',
    '[[[{"3":1,"2":2}],[]],{"k":[{"10":1,"9":2}]},"s",1.5,true,null]',
    '{"type":"email","payload":{"to":"a@b.c","vars":{"2":"x","1":"y","name":"n"}},"priority":5}',
    '{"é":1,"e":2,"Z":3,"_":4,"\\ud83d\\ude00":5,"\\uffff":6}',
    '"scalar"',
    '42',
    'null',
    '{}',
    '[]',
  ];

  it.each(bodies)('%s', (body) => {
    const parsed: unknown = JSON.parse(body);
    expect(canonicalJson(parsed)).toBe(oldCanonicalJson(parsed));
  });

  it('on arbitrary JSON bodies, integer-like keys included', () => {
    const key = fc.oneof(fc.string(), fc.nat().map(String), fc.constantFrom('__proto__', '01', '-1', '4294967294', '4294967295'));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)),
        fc.array(tie('value')),
        fc.dictionary(key, tie('value')),
      ),
    }));
    fc.assert(
      fc.property(value, (v) => {
        // Through JSON text, as a request body arrives (so `__proto__` is an own key).
        const parsed: unknown = JSON.parse(JSON.stringify(v));
        expect(canonicalJson(parsed)).toBe(oldCanonicalJson(parsed));
      }),
      { numRuns: 500 },
    );
  });
});
