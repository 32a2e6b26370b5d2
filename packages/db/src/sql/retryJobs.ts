/**
 * A client's retry: a failed, cancelled or expired job (`$2`, the retryable statuses) back to pending for a new
 * attempt, with its outcome and callback fields reset, rows locked in id order, one job_events row per write
 * (reason `retry requested`). Returns each written row with `prev_status`; a row not in a retryable status is
 * absent from the result.
 *
 * Batched form only: the API retries one job per request and passes a one-item array.
 */
export const retryJobs = `WITH prev AS (
      SELECT id, status FROM jobs WHERE id = ANY($1::text[]) AND status = ANY($2::text[])
      ORDER BY id
      FOR UPDATE
    ), u AS (
      UPDATE jobs j SET status = 'pending', event_seq = j.event_seq + 1, updated_at = now(), completed_at = NULL,
        stop_reason = NULL, error = NULL, result = NULL, result_bytes = NULL, progress = NULL, run_at = NULL, callback_pending = false,
        callback_webhook_id = NULL, callback_sent_at = NULL, callback_status_code = NULL, callback_error = NULL,
        callback_attempts = 0, completion_owner = NULL
      FROM prev WHERE j.id = prev.id
      RETURNING j.*, prev.status AS prev_status
    ), e AS (
      INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt, worker_id, reason)
      SELECT id, event_seq, prev_status, 'pending', updated_at, attempts, NULL, 'retry requested' FROM u
    )
    SELECT * FROM u`;
