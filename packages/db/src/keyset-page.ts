import { BadRequestError } from '@jobs/core';
import type { QueryResultRow } from 'pg';
import { rawRows, type Db } from './client';

/** A page of a list ordered by (created_at, id), as API.md's jobs list: `after`/`before` are ids of listed rows. */
export interface KeysetQuery {
  order: 'asc' | 'desc';
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
}

/**
 * One page of `table`'s rows matching `scope`, by keyset on (created_at, id) like JobStore.list: "after" is further
 * along in the chosen order, "before" nearer its start; a cursor outside the scope is a 400 naming it.
 * `table`, `select` and the scope's columns come from code, never from the request.
 */
export async function keysetPage<T extends QueryResultRow>(db: Db, opts: { table: string; select: string; scope: Record<string, unknown>; query: KeysetQuery; noun: string }): Promise<T[]> {
  const { query } = opts;
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const scopeSql = (alias: string) => Object.entries(opts.scope).map(([col, v]) => `${alias}${col} = ${p(v)}`);
  const where = scopeSql('');
  const desc = query.order === 'desc';
  const cursorRow = (id: string) => `(SELECT c.created_at, c.id FROM ${opts.table} c WHERE c.id = ${p(id)} AND ${scopeSql('c.').join(' AND ')})`;
  if (query.after) where.push(`(created_at, id) ${desc ? '<' : '>'} ${cursorRow(query.after)}`);
  if (query.before) where.push(`(created_at, id) ${desc ? '>' : '<'} ${cursorRow(query.before)}`);
  // With only "before", the nearest rows are read in reverse and flipped back into the chosen order.
  const reverse = Boolean(query.before && !query.after);
  const dir = desc !== reverse ? 'DESC' : 'ASC';
  const rows = await rawRows<T>(db, `SELECT ${opts.select} FROM ${opts.table} WHERE ${where.join(' AND ')} ORDER BY created_at ${dir}, id ${dir} LIMIT ${p(query.limit)}`, params);
  if (rows.length === 0) {
    // Only an empty page pays for telling an unknown cursor (400) from the end of the list.
    for (const [name, id] of [['after', query.after], ['before', query.before]] as const) {
      if (!id) continue;
      const cp: unknown[] = [id];
      const conds = Object.entries(opts.scope).map(([col, v]) => `${col} = $${cp.push(v)}`);
      const found = await rawRows(db, `SELECT 1 FROM ${opts.table} WHERE id = $1 AND ${conds.join(' AND ')}`, cp);
      if (found.length === 0) throw new BadRequestError(`Unknown cursor ${id}`, [{ path: name, message: `unknown ${opts.noun} id` }]);
    }
  }
  return reverse ? rows.reverse() : rows;
}
