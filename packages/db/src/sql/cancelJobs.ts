import type { TransitionStatement } from './statement';

/**
 * Ends a job as cancelled: created, pending or running → cancelled (a client cancel or delete, a file past its
 * processing timeout, a cancelled LLM batch). Guarded by the allowed statuses and the attempt fence, rows locked
 * in id order, one job_events row per write. `set_error` writes `error` (null clears it) and `set_result` writes
 * `result` (e.g. an LLM batch's counts); without them the row's values stay. `result` is JSON.stringify's text:
 * its octet_length is the size lists truncate by (job-list-values.ts).
 *
 * In the same statement a job with a callback_url starts its delivery series (d): the callback_deliveries row,
 * a snapshot of the body's fields, exists exactly when the transition does (SPEC F6). One webhook-id per terminal
 * transition, derived from the event it answers, so redelivery never mints a second.
 *
 * Batched only: the hot path always runs it through the Batcher, and a lone call is a batch of one.
 */
export const cancelJobs: TransitionStatement = {
  name: 'cancelJobs',
  to: 'cancelled',
  columns: ['id', 'attempt', 'workerId', 'reason', 'error', 'setError', 'stopReason', 'result', 'setResult'],
  text: `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::boolean[])
        AS i(id, attempt, worker_id, reason, error, set_error, stop_reason, result, set_result)
    ), prev AS (
      SELECT j.id, j.status, i.worker_id AS in_worker_id, i.reason AS in_reason, i.error AS in_error, i.set_error AS in_set_error,
             i.stop_reason AS in_stop_reason, i.result AS in_result, i.set_result AS in_set_result
      FROM jobs j JOIN i ON i.id = j.id
      WHERE j.id = ANY($1::text[]) AND ARRAY[j.status] <@ $10::text[] AND (i.attempt IS NULL OR j.attempts = i.attempt)
      ORDER BY j.id
      FOR UPDATE OF j
    ), u AS (
      UPDATE jobs j SET status = 'cancelled', event_seq = j.event_seq + 1, updated_at = now(),
        error = CASE WHEN prev.in_set_error THEN prev.in_error::jsonb ELSE j.error END,
        completed_at = now(), stop_reason = prev.in_stop_reason,
        callback_pending = (j.callback_url IS NOT NULL),
        callback_webhook_id = CASE WHEN j.callback_url IS NULL THEN NULL ELSE 'msg_' || substr(j.id, 5) || '_' || (j.event_seq + 1) END,
        result = CASE WHEN prev.in_set_result THEN prev.in_result::jsonb ELSE j.result END,
        result_bytes = CASE WHEN prev.in_set_result THEN octet_length(prev.in_result) ELSE j.result_bytes END
      FROM prev WHERE j.id = prev.id
      RETURNING j.*, prev.status AS prev_status, prev.in_worker_id, prev.in_reason
    ), e AS (
      INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
      SELECT id, event_seq, prev_status, status, updated_at, attempts, in_worker_id, in_reason FROM u
    ), d AS (
      INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, stop_reason, completed_at, metadata, next_attempt_at)
      SELECT callback_webhook_id, id, organization_id, attempts, callback_url, status, stop_reason, completed_at, metadata, completed_at
      FROM u WHERE callback_webhook_id IS NOT NULL
      ON CONFLICT (webhook_id) DO NOTHING
    )
    SELECT * FROM u`,
};
