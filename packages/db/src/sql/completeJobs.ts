import type { TransitionStatement } from './statement';

/**
 * Ends an attempt with its result: running → completed, guarded by the allowed statuses and the attempt fence,
 * rows locked in id order, one job_events row per write. `result` is JSON.stringify's text: its octet_length is
 * the size lists truncate by (job-list-values.ts). `set_error` writes `error`; without it the row's error stays.
 *
 * In the same statement:
 * - a job with a callback_url starts its delivery series (d): the callback_deliveries row, a snapshot of the
 *   body's fields, exists exactly when the transition does (SPEC F6). One webhook-id per terminal transition,
 *   derived from the event it answers, so redelivery never mints a second.
 * - a run's step and messages (st, ms), when the item carries a run record: inserted only for rows whose
 *   guarded update happened, so a run never has half a step and a late attempt writes none (SPEC F9).
 *   Message `seq` continues the run's.
 *
 * Batched only: the hot path always runs it through the Batcher, and a lone call is a batch of one.
 */
export const completeJobs: TransitionStatement = {
  name: 'completeJobs',
  to: 'completed',
  columns: ['id', 'attempt', 'workerId', 'reason', 'error', 'setError', 'stopReason', 'result', 'run'],
  text: `WITH i AS (
      SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[], $9::text[])
        AS i(id, attempt, worker_id, reason, error, set_error, stop_reason, result, run)
    ), prev AS (
      SELECT j.id, j.status, i.worker_id AS in_worker_id, i.reason AS in_reason, i.error AS in_error, i.set_error AS in_set_error,
             i.stop_reason AS in_stop_reason, i.result AS in_result, i.run AS in_run
      FROM jobs j JOIN i ON i.id = j.id
      WHERE j.id = ANY($1::text[]) AND ARRAY[j.status] <@ $10::text[] AND (i.attempt IS NULL OR j.attempts = i.attempt)
      ORDER BY j.id
      FOR UPDATE OF j
    ), u AS (
      UPDATE jobs j SET status = 'completed', event_seq = j.event_seq + 1, updated_at = now(),
        error = CASE WHEN prev.in_set_error THEN prev.in_error::jsonb ELSE j.error END,
        completed_at = now(), stop_reason = prev.in_stop_reason,
        callback_pending = (j.callback_url IS NOT NULL),
        callback_webhook_id = CASE WHEN j.callback_url IS NULL THEN NULL ELSE 'msg_' || substr(j.id, 5) || '_' || (j.event_seq + 1) END,
        result = prev.in_result::jsonb, result_bytes = octet_length(prev.in_result)
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
    ), st AS (
      INSERT INTO steps (id, job_id, organization_id, provider, model, stop_reason, input_tokens, output_tokens, usage, ttft_ns, duration_ns, created_at)
      SELECT r->>'id', u.id, u.organization_id, r->>'provider', r->>'model', r->>'stop_reason', (r->>'input_tokens')::int,
             (r->>'output_tokens')::int, COALESCE(r->'usage', '{}'::jsonb), (r->>'ttft_ns')::bigint, (r->>'duration_ns')::bigint, u.updated_at
      FROM u JOIN prev ON prev.id = u.id CROSS JOIN LATERAL (SELECT prev.in_run::jsonb AS r) x
      WHERE prev.in_run IS NOT NULL
      RETURNING id, job_id
    ), ms AS (
      INSERT INTO messages (id, job_id, step_id, organization_id, seq, role, content, created_at)
      SELECT m->>'id', u.id, st.id, u.organization_id,
             (SELECT COALESCE(max(x.seq) + 1, 0) FROM messages x WHERE x.job_id = u.id) + o::int - 1, m->>'role', m->'content', u.updated_at
      FROM u JOIN prev ON prev.id = u.id JOIN st ON st.job_id = u.id
      CROSS JOIN LATERAL jsonb_array_elements(prev.in_run::jsonb->'messages') WITH ORDINALITY AS e(m, o)
    )
    SELECT * FROM u`,
};
