import { rawRows, type Db } from './client';
import type { JobRow } from './job-row';

/** The columns a new job row is written with, in order (status `created`, event_seq 1 are fixed). */
export const INSERT_COLUMNS = [
  ['id', 'text'],
  ['organization_id', 'text'],
  ['user_id', 'text'],
  ['job_type', 'text'],
  ['task', 'text'],
  ['background', 'boolean'],
  ['input', 'jsonb'],
  ['metadata', 'jsonb'],
  ['agent_id', 'text'],
  ['source_id', 'text'],
  ['priority', 'int'],
  ['max_attempts', 'int'],
  ['backoff_ms', 'int'],
  ['timeout_ms', 'int'],
  ['delay_ms', 'bigint'],
  ['run_at', 'timestamptz'],
  ['expires_at', 'timestamptz'],
  ['idempotency_key', 'text'],
  ['idempotency_hash', 'text'],
  ['callback_url', 'text'],
  ['concurrency_key', 'text'],
  ['concurrency_limit', 'int'],
] as const;

export type InsertValues = unknown[];

// jsonb travels as text (an array of jsonb would need every element pre-encoded anyway) and is cast per row.
// That text is JSON.stringify's, so its octet_length is the input_bytes lists truncate by.
const arrayType = (t: string) => (t === 'jsonb' ? 'text' : t);
const names = INSERT_COLUMNS.map(([c]) => c).join(', ');
const unnestArgs = INSERT_COLUMNS.map(([, t], i) => `$${i + 1}::${arrayType(t)}[]`).join(', ');
const selectList = INSERT_COLUMNS.map(([c, t]) => (t === 'jsonb' ? `${c}::jsonb` : c)).join(', ');

/** Many new rows and their `created` events in one statement (one row is the same statement with arrays of one). */
const INSERT_SQL = `WITH j AS (
    INSERT INTO jobs (${names}, input_bytes, status, event_seq)
    SELECT ${selectList}, octet_length(x.input), 'created', 1 FROM unnest(${unnestArgs}) AS x(${names})
    RETURNING *
  ), e AS (
    INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
    SELECT id, 1, NULL, 'created', created_at, 0, NULL, NULL FROM j
  )
  SELECT * FROM j`;

/** Inserts the rows (each given as INSERT_COLUMNS values) and answers them in the same order. */
export async function insertJobRows(q: Db, rows: InsertValues[]): Promise<JobRow[]> {
  const columns = INSERT_COLUMNS.map((_, c) => rows.map((r) => r[c] ?? null));
  const inserted = await rawRows<JobRow>(q, INSERT_SQL, columns, { prepare: true });
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return rows.map((r) => byId.get(r[0] as string)!);
}
