import type { TransitionStatement } from './statement';

/**
 * Puts a job (back) in the queue: created → pending when its enqueuer queues it, running → pending when an
 * attempt ends to be re-run (retry after a failure with `run_at` as its backoff, a worker shutting down, a lost
 * attempt that still has budget). Guarded by the allowed statuses and the attempt fence, rows locked in id
 * order, one job_events row per write. The returned attempt belongs to whichever worker takes it next, so the
 * hand-off owner is cleared. `set_error` writes `error` (null clears it); without it the row's error stays.
 *
 * Batched only: the hot path always runs it through the Batcher, and a lone call is a batch of one.
 */
export const requeueJobs: TransitionStatement = {
  name: 'requeueJobs',
  to: 'pending',
  columns: ['id', 'attempt', 'workerId', 'reason', 'runAt', 'error', 'setError'],
  text: `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::boolean[])
        AS i(id, attempt, worker_id, reason, run_at, error, set_error)
    ), prev AS (
      SELECT j.id, j.status, i.worker_id AS in_worker_id, i.reason AS in_reason, i.run_at AS in_run_at,
             i.error AS in_error, i.set_error AS in_set_error
      FROM jobs j JOIN i ON i.id = j.id
      WHERE j.id = ANY($1::text[]) AND ARRAY[j.status] <@ $8::text[] AND (i.attempt IS NULL OR j.attempts = i.attempt)
      ORDER BY j.id
      FOR UPDATE OF j
    ), u AS (
      UPDATE jobs j SET status = 'pending', event_seq = j.event_seq + 1, updated_at = now(), completion_owner = NULL,
        run_at = prev.in_run_at,
        error = CASE WHEN prev.in_set_error THEN prev.in_error::jsonb ELSE j.error END
      FROM prev WHERE j.id = prev.id
      RETURNING j.*, prev.status AS prev_status, prev.in_worker_id, prev.in_reason
    ), e AS (
      INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
      SELECT id, event_seq, prev_status, status, updated_at, attempts, in_worker_id, in_reason FROM u
    )
    SELECT * FROM u`,
};
