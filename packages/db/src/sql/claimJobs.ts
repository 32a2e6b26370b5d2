import type { TransitionStatement } from './statement';

/**
 * Starts an attempt: pending → running (or created → running, see below), guarded by the allowed statuses and
 * the attempt fence, rows locked in id order so two batches never deadlock, one job_events row per write.
 * A new attempt starts without the previous one's timings and belongs to no hand-off owner.
 *
 * A row still `created` whose item asks `through_pending` (its enqueuer has not written `pending` yet) goes
 * through `pending` in this statement: two events (created → pending, reason `queued`, then pending →
 * running) and event_seq + 2, so every history reads the same. `unless_expired` adds the guard that
 * `expires_at` has not passed, checked by the same statement so start and expiry never race.
 *
 * Batched only: the hot path always runs it through the Batcher, and a lone call is a batch of one.
 * `j.id = ANY($1)` keeps the plan an index scan whatever the planner guesses for unnest's row count; the status
 * guard is written so no index can serve it (with stale statistics the planner otherwise reads every `running`
 * row through the (status, updated_at) index and filters by id; bench scenario 1).
 */
export const claimJobs: TransitionStatement = {
  name: 'claimJobs',
  to: 'running',
  columns: ['id', 'attempt', 'workerId', 'reason', 'throughPending', 'unlessExpired'],
  text: `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::boolean[], $6::boolean[])
        AS i(id, attempt, worker_id, reason, through_pending, unless_expired)
    ), prev AS (
      SELECT j.id, j.status, i.worker_id AS in_worker_id, i.reason AS in_reason, i.through_pending AS in_through_pending
      FROM jobs j JOIN i ON i.id = j.id
      WHERE j.id = ANY($1::text[]) AND ARRAY[j.status] <@ $7::text[] AND (i.attempt IS NULL OR j.attempts = i.attempt)
        AND (NOT i.unless_expired OR j.expires_at IS NULL OR j.expires_at > now())
      ORDER BY j.id
      FOR UPDATE OF j
    ), u AS (
      UPDATE jobs j SET status = 'running',
        event_seq = j.event_seq + CASE WHEN prev.status = 'created' AND prev.in_through_pending THEN 2 ELSE 1 END,
        updated_at = now(), attempts = j.attempts + 1, started_at = now(), run_at = NULL, progress = NULL,
        ttft_ns = NULL, total_duration_ns = NULL, completion_owner = NULL
      FROM prev WHERE j.id = prev.id
      RETURNING j.*, prev.status AS prev_status, prev.in_worker_id, prev.in_reason, prev.in_through_pending
    ), e AS (
      INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
      SELECT id, event_seq - 1, 'created', 'pending', updated_at, attempts - 1, in_worker_id, 'queued'
      FROM u WHERE prev_status = 'created' AND in_through_pending
      UNION ALL
      SELECT id, event_seq, CASE WHEN prev_status = 'created' AND in_through_pending THEN 'pending' ELSE prev_status END,
             status, updated_at, attempts, in_worker_id, in_reason
      FROM u
    )
    SELECT * FROM u`,
};
