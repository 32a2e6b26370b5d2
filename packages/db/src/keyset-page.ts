import { BadRequestError } from '@jobs/core';
import type { QueryResultRow } from 'pg';
import { rawRows, type Db } from './client';

/** A page of a list as API.md's jobs list: `after`/`before` are ids of listed rows. */
export interface KeysetQuery {
  order: 'asc' | 'desc';
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
}

/** Binds a value as the next parameter of the page query and answers its placeholder. */
export type Bind = (value: unknown) => string;

export interface KeysetList {
  /** The listed rows' FROM item (a table, or a parenthesised select for joined lists); it gets the alias `k`. */
  from: string;
  select: string;
  /** The order's columns, unique together (e.g. created_at, id; or seq). */
  key: readonly string[];
  /** The column the cursors name; `id` unless said. */
  idColumn?: string;
  /** Equalities every listed row and every cursor row satisfy (the list's owner: organization, run, batch, ...). */
  scope: Record<string, unknown>;
  /** Where a cursor row may come from when that is wider than `scope` (an operator's organization filter). */
  cursorScope?: Record<string, unknown>;
  /** Further conditions on listed rows only (the list's filters), written with `bind`. */
  filters?: (bind: Bind) => string[];
  query: KeysetQuery;
  /** The 400's message for a cursor outside the scope, e.g. "unknown job id". */
  unknownCursor: string;
}

/**
 * One keyset page of any list: "after" is further along in the chosen order, "before" nearer its start; a cursor
 * outside the scope is a 400 naming it. The cursor row is read inside the page query (one round trip); only an
 * empty page pays the lookup that tells an unknown cursor from the end of the list. Table and column names come
 * from code, never from the request.
 */
export async function keysetPage<T extends QueryResultRow>(db: Db, list: KeysetList): Promise<T[]> {
  const { query } = list;
  const idColumn = list.idColumn ?? 'id';
  const cursorScope = list.cursorScope ?? list.scope;
  const params: unknown[] = [];
  const bind: Bind = (v) => {
    params.push(v);
    return `$${params.length}`;
  };
  const equalities = (scope: Record<string, unknown>, alias: string) =>
    Object.entries(scope).map(([col, v]) => `${alias}.${col} = ${bind(v)}`);
  const where = [...equalities(list.scope, 'k'), ...(list.filters?.(bind) ?? [])];
  const desc = query.order === 'desc';
  const keyOf = (alias: string) =>
    list.key.length === 1 ? `${alias}.${list.key[0]}` : `(${list.key.map((c) => `${alias}.${c}`).join(', ')})`;
  const cursorRow = (id: string) =>
    `(SELECT ${list.key.map((c) => `c.${c}`).join(', ')} FROM ${list.from} c WHERE ${[`c.${idColumn} = ${bind(id)}`, ...equalities(cursorScope, 'c')].join(' AND ')})`;
  if (query.after) where.push(`${keyOf('k')} ${desc ? '<' : '>'} ${cursorRow(query.after)}`);
  if (query.before) where.push(`${keyOf('k')} ${desc ? '>' : '<'} ${cursorRow(query.before)}`);
  // With only "before", the nearest rows are read in reverse and flipped back into the chosen order.
  const reverse = Boolean(query.before && !query.after);
  const dir = desc !== reverse ? 'DESC' : 'ASC';
  const orderBy = list.key.map((c) => `k.${c} ${dir}`).join(', ');
  const rows = await rawRows<T>(
    db,
    `SELECT ${list.select} FROM ${list.from} k ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy} LIMIT ${bind(query.limit)}`,
    params,
  );
  if (rows.length === 0) await checkCursors(db, list, idColumn, cursorScope);
  return reverse ? rows.reverse() : rows;
}

async function checkCursors(
  db: Db,
  list: KeysetList,
  idColumn: string,
  cursorScope: Record<string, unknown>,
): Promise<void> {
  for (const [name, id] of [
    ['after', list.query.after],
    ['before', list.query.before],
  ] as const) {
    if (!id) continue;
    const params: unknown[] = [id];
    const conds = [
      `c.${idColumn} = $1`,
      ...Object.entries(cursorScope).map(([col, v]) => `c.${col} = $${params.push(v)}`),
    ];
    const found = await rawRows(db, `SELECT 1 FROM ${list.from} c WHERE ${conds.join(' AND ')}`, params);
    if (found.length === 0)
      throw new BadRequestError(`Unknown cursor ${id}`, [{ path: name, message: list.unknownCursor }]);
  }
}
