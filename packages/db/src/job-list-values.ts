import { rawRows, type Db } from './client';

/** API.md (second version): lists return a Job's `input` and `result` whole up to this many bytes of their JSON. */
export const LIST_VALUE_MAX_BYTES = 16 * 1024;

// A JSON string in Postgres' text of a jsonb, escapes included: matched whole so that its contents are not counted.
const JSON_STRING = String.raw`"(?:[^"\\]|\\.)*"`;

/**
 * The UTF-8 bytes of a jsonb column's JSON without the space Postgres' text puts after every `,` and `:` between
 * elements: the API's JSON, except that numbers are counted as Postgres prints them (1e21 as 22 digits). Used
 * only for rows written before `<col>_bytes` existed; it reads the whole value, so only past the cheap bound.
 */
const compactBytes = (col: string) => {
  // With every string emptied, each ", " and ": " left is a separator; each loses its space.
  const skeleton = `regexp_replace(${col}::text, '${JSON_STRING}', '""', 'g')`;
  return `(octet_length(${col}::text) - (SELECT octet_length(t) - octet_length(replace(replace(t, ', ', ','), ': ', ':')) FROM (SELECT ${skeleton} AS t) k))`;
};

const truncated = (bytes: string) => `jsonb_build_object('truncated', true, 'bytes', ${bytes})`;

/**
 * A list's value of jsonb column `col`: whole up to LIST_VALUE_MAX_BYTES, else {"truncated": true, "bytes": n},
 * decided in Postgres so that a large value never leaves it. n is `<col>_bytes`, written with the value from
 * JSON.stringify's text, so it is exactly what GET /api/jobs/{id} sends for it. Postgres' own text is never
 * shorter than that JSON (separators have a space, numbers are printed in full), so a value whose text fits is
 * whole without further counting.
 */
export function listValueSql(col: 'input' | 'result'): string {
  const max = LIST_VALUE_MAX_BYTES;
  return `CASE
    WHEN ${col} IS NULL THEN NULL
    WHEN ${col}_bytes IS NOT NULL THEN CASE WHEN ${col}_bytes <= ${max} THEN ${col} ELSE ${truncated(`${col}_bytes`)} END
    WHEN octet_length(${col}::text) <= ${max} THEN ${col}
    ELSE (SELECT CASE WHEN s.n <= ${max} THEN ${col} ELSE ${truncated('s.n')} END FROM (SELECT ${compactBytes(col)} AS n) s)
  END`;
}

/**
 * The select list of a jobs list: every column of `jobs` (read from the catalog, so columns added later are
 * listed too) with `input` and `result` replaced by their list values. Read once per process.
 */
export async function jobListSelect(db: Db): Promise<string> {
  const columns = await rawRows<{ column_name: string }>(
    db,
    `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'jobs' ORDER BY ordinal_position`,
    [],
  );
  return columns.map(({ column_name: c }) => (c === 'input' || c === 'result' ? `${listValueSql(c)} AS ${c}` : `"${c.replace(/"/g, '""')}"`)).join(', ');
}
