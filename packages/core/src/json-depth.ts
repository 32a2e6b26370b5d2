/**
 * Walks over a client's JSON that cannot overflow the stack: each keeps its own explicit stack, so a body
 * nested 100,000 levels deep costs memory in proportion to its size, never call-stack frames.
 */

/** A container met on the walk; `parent` links rebuild the path only when it is needed. */
interface Frame {
  value: unknown;
  depth: number;
  key: string;
  parent: Frame | null;
}

function pathOf(frame: Frame | null): string[] {
  const path: string[] = [];
  for (let f = frame; f && f.parent; f = f.parent) path.push(f.key);
  return path.reverse();
}

/** Own enumerable entries of an array or a plain object, as JSON sees them. */
function childrenOf(value: object): [string, unknown][] {
  if (Array.isArray(value)) return value.map((v, i) => [String(i), v]);
  return Object.entries(value);
}

const isContainer = (v: unknown): v is object => v !== null && typeof v === 'object';

/**
 * The path of the first container (object or array) nested deeper than `maxDepth`, the value itself being
 * depth 1; null when none is. Iterative, depth first, children in order.
 */
export function findTooDeep(value: unknown, maxDepth: number): string[] | null {
  if (!isContainer(value)) return null;
  const stack: Frame[] = [{ value, depth: 1, key: '', parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) return pathOf(frame);
    const children = childrenOf(frame.value as object);
    // Pushed in reverse so that they are popped, and so reported, in document order.
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i]!;
      if (isContainer(child)) stack.push({ value: child, depth: frame.depth + 1, key, parent: frame });
    }
  }
  return null;
}

/**
 * The path of the first string (an object key or a value) for which `bad` holds; null when none does.
 * Iterative, depth first, in document order; a key is checked before its value.
 */
export function findString(value: unknown, bad: (s: string) => boolean): string[] | null {
  interface Item {
    value: unknown;
    frame: Frame;
  }
  const root: Frame = { value, depth: 1, key: '', parent: null };
  const stack: Item[] = [{ value, frame: root }];
  while (stack.length > 0) {
    const { value: v, frame } = stack.pop()!;
    if (typeof v === 'string') {
      if (bad(v)) return pathOf(frame);
      continue;
    }
    if (!isContainer(v)) continue;
    const children = childrenOf(v);
    const keyed = !Array.isArray(v);
    for (let i = children.length - 1; i >= 0; i--) {
      const [key, child] = children[i]!;
      const childFrame: Frame = { value: child, depth: 0, key, parent: frame };
      if (typeof child === 'string' || isContainer(child)) stack.push({ value: child, frame: childFrame });
      // A key and its value share a path; the key is pushed last so that it is checked first.
      if (keyed) stack.push({ value: key, frame: childFrame });
    }
  }
  return null;
}
