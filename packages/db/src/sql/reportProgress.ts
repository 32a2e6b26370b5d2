/**
 * Progress of the running attempt (`$3`, JSON text per item); a stale attempt's report is dropped by the
 * status and attempt fence. Returns the ids written.
 *
 * Batched form only: a task reports one progress at a time and passes one-item arrays.
 */
export const reportProgress = `UPDATE jobs j SET progress = i.progress::jsonb, updated_at = now()
    FROM unnest($1::text[], $2::int[], $3::text[]) AS i(id, attempt, progress)
    WHERE j.id = i.id AND j.attempts = i.attempt AND j.status = 'running'
    RETURNING j.id`;
