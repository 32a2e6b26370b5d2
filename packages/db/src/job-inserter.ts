import { rawRows, type Db } from './client';
import type { JobRow } from './job-row';

/** The columns a new job row is written with, in order (status and event_seq are fixed by the statement). */
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

/**
 * Many new rows and their `created` events in one statement (one row is the same statement with arrays of one).
 * `queued`: the rows are written `pending` with both events of their creation (`created`, then `created → pending`
 * with reason `queued`, as the enqueuer's own write would add them), for a creator that queues them right after
 * the commit: one write per job instead of two.
 */
const insertSql = (queued: boolean) => `WITH j AS (
    INSERT INTO jobs (${names}, input_bytes, status, event_seq)
    SELECT ${selectList}, octet_length(x.input), ${queued ? "'pending', 2" : "'created', 1"} FROM unnest(${unnestArgs}) AS x(${names})
    RETURNING *
  ), e AS (
    INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
    SELECT id, 1, NULL, 'created', created_at, 0, NULL, NULL FROM j${
      queued ? `
    UNION ALL
    SELECT id, 2, 'created', 'pending', created_at, 0, NULL, 'queued' FROM j` : ''
    }
  )
  SELECT * FROM j`;
const INSERT_SQL = insertSql(false);
const INSERT_QUEUED_SQL = insertSql(true);

/** Inserts the rows (each given as INSERT_COLUMNS values) and answers them in the same order. */
export async function insertJobRows(q: Db, rows: InsertValues[], opts: { queued?: boolean } = {}): Promise<JobRow[]> {
  const columns = INSERT_COLUMNS.map((_, c) => rows.map((r) => r[c] ?? null));
  const inserted = await rawRows<JobRow>(q, opts.queued ? INSERT_QUEUED_SQL : INSERT_SQL, columns, { prepare: true });
  const byId = new Map(inserted.map((r) => [r.id, r]));
  return rows.map((r) => byId.get(r[0] as string)!);
}

/**
 * Rows inserted `pending` whose queue add failed go back to what a create that could not queue leaves: `created`,
 * with the `pending` event of their creation removed (API.md: such a job answers `created`, and the reconciler
 * queues it). Only rows untouched since their insert qualify; one a worker or a cancel already moved is left
 * as it is and absent from the result. Rows locked in id order, like every batched write.
 */
const UNQUEUE_SQL = `WITH prev AS (
    SELECT id FROM jobs WHERE id = ANY($1::text[]) AND status = 'pending' AND attempts = 0 AND event_seq = 2
    ORDER BY id FOR UPDATE
  ), u AS (
    UPDATE jobs j SET status = 'created', event_seq = 1 FROM prev WHERE j.id = prev.id RETURNING j.*
  ), d AS (
    DELETE FROM job_events e USING u WHERE e.job_id = u.id AND e.seq = 2
  )
  SELECT * FROM u`;

export async function unqueueNewRows(q: Db, ids: readonly string[]): Promise<JobRow[]> {
  if (ids.length === 0) return [];
  return rawRows<JobRow>(q, UNQUEUE_SQL, [ids]);
}
