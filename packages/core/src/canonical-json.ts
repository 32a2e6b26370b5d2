/**
 * JSON with object keys sorted (array order kept), so equal bodies compare equal as strings. Otherwise as
 * JSON.stringify (toJSON honoured, undefined and functions dropped from objects and null in arrays), but
 * iterative: a client's body however deep cannot overflow the stack here.
 *
 * For any parsed JSON body it writes exactly what the earlier recursive version wrote (it rebuilt each object with its keys inserted in
 * sorted order and let JSON.stringify write it), because the stored idempotency fingerprints hash this text: a
 * replay sent before a deploy and repeated after it must still match. Hence the key order of compareKeys, and
 * a `__proto__` key left out (assigning it to the rebuilt object set its prototype instead of adding a key).
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  // Work items, popped from the end: a value still to write, or literal text (brackets, commas, keys).
  const stack: ({ text: string } | { value: unknown })[] = [{ value }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ('text' in item) {
      out.push(item.text);
      continue;
    }
    const v = resolve(item.value);
    if (Array.isArray(v)) {
      stack.push({ text: ']' });
      for (let i = v.length - 1; i >= 0; i--) {
        const el = resolve(v[i]);
        stack.push(omitted(el) ? { text: 'null' } : { value: el });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
    } else if (v !== null && typeof v === 'object') {
      const record = v as Record<string, unknown>;
      const entries = Object.keys(record)
        .filter((k) => k !== '__proto__')
        .sort(compareKeys)
        .map((k) => [k, resolve(record[k])] as const)
        .filter(([, el]) => !omitted(el));
      stack.push({ text: '}' });
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, el] = entries[i]!;
        stack.push({ value: el });
        stack.push({ text: `${i > 0 ? ',' : ''}${JSON.stringify(k)}:` });
      }
      stack.push({ text: '{' });
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  }
  return out.join('');
}

/** What JSON.stringify writes in a value's place: its toJSON() when it has one (a Date, say). */
function resolve(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  return v;
}

/** Values JSON.stringify leaves out of an object (and writes as null in an array). */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/** Largest array index (ECMAScript: an integer index below 2^32 - 1). */
const MAX_ARRAY_INDEX = 2 ** 32 - 2;

/** True when `k` is an array index: the canonical decimal form of an integer 0 .. 2^32 - 2 ("01" and "-1" are not). */
const isArrayIndex = (k: string): boolean => /^(?:0|[1-9][0-9]{0,9})$/.test(k) && Number(k) <= MAX_ARRAY_INDEX;

/**
 * The order in which JavaScript lists the keys of an object built by inserting them in sorted order
 * (OrdinaryOwnPropertyKeys): array indices first in ascending numeric order, then the other keys as sorted
 * (by UTF-16 code units, as Array.prototype.sort does).
 */
function compareKeys(a: string, b: string): number {
  const ai = isArrayIndex(a);
  const bi = isArrayIndex(b);
  if (ai && bi) return Number(a) - Number(b);
  if (ai !== bi) return ai ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
