/**
 * JSON with object keys sorted (array order kept), so equal bodies compare equal as strings. Otherwise as
 * JSON.stringify (toJSON honoured, undefined and functions dropped from objects and null in arrays), but
 * iterative: a client's body however deep cannot overflow the stack here.
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
        .sort()
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
