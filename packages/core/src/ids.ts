import { randomUUID } from 'node:crypto';

export const ID_PREFIXES = ['job', 'org', 'user', 'key', 'source', 'file', 'batch_item', 'step', 'message'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

export function newId(prefix: IdPrefix): string {
  return `${prefix}-${randomUUID()}`;
}

const patterns = new Map<IdPrefix, RegExp>(ID_PREFIXES.map((p) => [p, new RegExp(`^${p}-${UUID4}$`)]));

/** The whole-string pattern of an id of this prefix (the same one `isId` tests). */
export const idPattern = (prefix: IdPrefix): RegExp => patterns.get(prefix)!;

export function isId(prefix: IdPrefix, value: string): boolean {
  return patterns.get(prefix)!.test(value);
}
