/**
 * The running attempt's task finished its part and someone else (`$3`, the owner) will write the terminal
 * status: the row stays `running` with `completion_owner` set, so the reconciler does not mistake its finished
 * BullMQ job for a lost one. Guarded by status `running` and the attempt fence; returns the ids written.
 *
 * Batched form only: the worker hands off one attempt at a time and passes one-item arrays.
 */
export const handOffJobs = `UPDATE jobs j SET completion_owner = i.owner, updated_at = now()
    FROM unnest($1::text[], $2::int[], $3::text[]) AS i(id, attempt, owner)
    WHERE j.id = i.id AND j.attempts = i.attempt AND j.status = 'running'
    RETURNING j.id`;
