import { allowedSources, isTerminal, type JobStatus } from '@jobs/core';
import { Batcher, HOT_PATH_BATCHING } from './batcher';
import { rawRows, type Db } from './client';
import type { JobRow } from './job-row';
import type { TransitionOptions } from './job-store';
import { RUN_RECORD_CTE, runRecordJson } from './run-records';

interface Item {
  id: string;
  opts: TransitionOptions;
}

export interface Written {
  job: JobRow;
  prev: JobStatus;
}

type ReturnedRow = JobRow & { prev_status: JobStatus; in_worker_id: string | null; in_reason: string | null };

/**
 * A terminal transition of a job with a callback_url starts its delivery series in the same statement: the
 * series row (a snapshot of the body's fields) then exists exactly when the transition does, whatever
 * happens to the job or to Redis afterwards (SPEC F6, issue 10 item 6).
 */
const CALLBACK_SERIES_CTE = `, d AS (
      INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, stop_reason, completed_at, metadata, next_attempt_at)
      SELECT callback_webhook_id, id, organization_id, attempts, callback_url, status, stop_reason, completed_at, metadata, completed_at
      FROM u WHERE callback_webhook_id IS NOT NULL
      ON CONFLICT (webhook_id) DO NOTHING
    )`;

/**
 * The guarded status write of SPEC F2, batched: concurrent transitions of the same shape (target status,
 * allowed sources, whether an error is written) go to PostgreSQL as one statement over `unnest`ed arrays.
 * Each row keeps its own guard: `status = ANY(allowed) AND attempts = its fence`, locked in id order
 * (so two batches never deadlock), and each written row appends its own job_events row in the same
 * statement. A row whose guard fails is simply absent from the result: that caller gets null.
 */
export class TransitionWriter {
  private readonly batchers = new Map<string, Batcher<Item, Written | null>>();

  constructor(private readonly db: Db) {}

  write(id: string, to: JobStatus, opts: TransitionOptions): Promise<Written | null> {
    const from = [...(opts.from ?? allowedSources(to))];
    const withError = opts.error !== undefined;
    const unlessExpired = opts.unlessExpired === true;
    const throughPending = opts.throughPending === true && to === 'running' && from.includes('created');
    // A terminal write other than `completed` keeps the row's result unless the caller gives one (a batch's counts).
    const withResult = opts.result !== undefined && isTerminal(to) && to !== 'completed';
    // A run's step and messages are written only with its completion (SPEC F9).
    const withRun = opts.run !== undefined && to === 'completed';
    const shape = `${to}|${from.join(',')}|${withError ? 'e' : ''}|${unlessExpired ? 'x' : ''}|${throughPending ? 'p' : ''}|${withResult ? 'r' : ''}|${withRun ? 'R' : ''}`;
    let batcher = this.batchers.get(shape);
    if (!batcher) {
      const sql = transitionSql(to, withError, unlessExpired, throughPending, withResult, withRun);
      batcher = new Batcher<Item, Written | null>((items) => this.run(sql, to, from, items), HOT_PATH_BATCHING, (item) => item.id);
      this.batchers.set(shape, batcher);
    }
    return batcher.add({ id, opts });
  }

  /**
   * Many rows to one status in one statement of their own, outside the shared batches (a bulk create's
   * `pending` writes): each row keeps its guard, and a row whose guard fails answers null.
   */
  writeMany(ids: readonly string[], to: JobStatus, opts: Pick<TransitionOptions, 'from' | 'reason' | 'workerId'>): Promise<(Written | null)[]> {
    if (ids.length === 0) return Promise.resolve([]);
    const from = [...(opts.from ?? allowedSources(to))];
    return this.run(transitionSql(to, false, false, false, false, false), to, from, ids.map((id) => ({ id, opts })));
  }

  private async run(sql: string, to: JobStatus, from: string[], items: Item[]): Promise<(Written | null)[]> {
    const col = <T>(f: (o: TransitionOptions) => T) => items.map((i) => f(i.opts));
    const rows = await rawRows<ReturnedRow>(this.db, sql, [
      items.map((i) => i.id),
      col((o) => o.attempt ?? null),
      col((o) => o.workerId ?? null),
      col((o) => o.reason ?? null),
      col((o) => o.runAt ?? null),
      col((o) => (o.error === undefined || o.error === null ? null : JSON.stringify(o.error))),
      col((o) => o.stopReason ?? defaultStopReason(to)),
      col((o) => JSON.stringify(o.result ?? null)),
      from,
      to,
      col((o) => (o.run ? runRecordJson(o.run) : null)),
    ], { prepare: true });
    const byId = new Map<string, Written>();
    for (const r of rows) {
      const { prev_status: prev, in_worker_id: _w, in_reason: _r, ...job } = r;
      byId.set(job.id, { job, prev });
    }
    return items.map((i) => byId.get(i.id) ?? null);
  }
}

function transitionSql(to: JobStatus, withError: boolean, unlessExpired: boolean, throughPending: boolean, withResult: boolean, withRun: boolean): string {
  const sets = ['status = $10', `event_seq = j.event_seq + ${throughPending ? "CASE WHEN prev.status = 'created' THEN 2 ELSE 1 END" : '1'}`, 'updated_at = now()'];
  // A run's timings are its latest attempt's: a new attempt starts without the previous one's.
  if (to === 'running') sets.push('attempts = j.attempts + 1', 'started_at = now()', 'run_at = NULL', 'progress = NULL', 'ttft_ns = NULL', 'total_duration_ns = NULL');
  // A new or returned attempt belongs to a worker again, whoever the last one handed it to.
  if (to === 'running' || to === 'pending') sets.push('completion_owner = NULL');
  if (to === 'pending') sets.push('run_at = prev.in_run_at');
  if (withError) sets.push('error = prev.in_error::jsonb');
  if (isTerminal(to)) {
    sets.push(
      'completed_at = now()',
      'stop_reason = prev.in_stop_reason',
      'callback_pending = (j.callback_url IS NOT NULL)',
      // One webhook-id per terminal transition, derived from the event it answers, so redelivery never mints a second.
      `callback_webhook_id = CASE WHEN j.callback_url IS NULL THEN NULL ELSE 'msg_' || substr(j.id, 5) || '_' || (j.event_seq + 1) END`,
    );
    // in_result is JSON.stringify's text: its octet_length is the size lists truncate by (job-list-values.ts).
    if (to === 'completed' || withResult) sets.push('result = prev.in_result::jsonb', 'result_bytes = octet_length(prev.in_result)');
  }
  // `j.id = ANY($1)` keeps the plan an index scan whatever the planner guesses for unnest's row count. The status
  // guard is written so no index can serve it: with stale statistics (a new or truncated table) the planner
  // otherwise reads all `running` rows through the (status, updated_at) index and filters them by id, which
  // cost 10 ms per batch instead of 1 under a backlog (bench scenario 1, pg_stat_statements).
  return `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[], $11::text[])
        AS i(id, attempt, worker_id, reason, run_at, error, stop_reason, result, run)
    ), prev AS (
      SELECT j.id, j.status, i.worker_id AS in_worker_id, i.reason AS in_reason, i.run_at AS in_run_at, i.error AS in_error,
             i.stop_reason AS in_stop_reason, i.result AS in_result, i.run AS in_run
      FROM jobs j JOIN i ON i.id = j.id
      WHERE j.id = ANY($1::text[]) AND ARRAY[j.status] <@ $9::text[] AND (i.attempt IS NULL OR j.attempts = i.attempt)
        ${unlessExpired ? 'AND (j.expires_at IS NULL OR j.expires_at > now())' : ''}
      ORDER BY j.id
      FOR UPDATE OF j
    ), u AS (
      UPDATE jobs j SET ${sets.join(', ')} FROM prev WHERE j.id = prev.id
      RETURNING j.*, prev.status AS prev_status, prev.in_worker_id, prev.in_reason
    ), e AS (
      INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
      ${
        throughPending
          ? `SELECT id, event_seq - 1, 'created', 'pending', updated_at, attempts - 1, in_worker_id, 'queued' FROM u WHERE prev_status = 'created'
      UNION ALL
      SELECT id, event_seq, CASE WHEN prev_status = 'created' THEN 'pending' ELSE prev_status END, status, updated_at, attempts, in_worker_id, in_reason FROM u`
          : 'SELECT id, event_seq, prev_status, status, updated_at, attempts, in_worker_id, in_reason FROM u'
      }
    )${isTerminal(to) ? CALLBACK_SERIES_CTE : ''}${withRun ? RUN_RECORD_CTE : ''}
    SELECT * FROM u`;
}

export function defaultStopReason(to: JobStatus): string {
  switch (to) {
    case 'completed':
      return 'end_turn';
    case 'failed':
      return 'error';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'expired';
  }
}
