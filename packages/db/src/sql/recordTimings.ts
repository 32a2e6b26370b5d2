/**
 * The running attempt's time to first token (`$3`) and total response time (`$4`), each kept as it was when
 * null. Only the running attempt's: a cancelled or superseded attempt's late timing is dropped, like its progress.
 *
 * Batched form only: a task records one timing at a time and passes one-item arrays.
 */
export const recordTimings = `UPDATE jobs j SET ttft_ns = COALESCE(i.ttft_ns, j.ttft_ns), total_duration_ns = COALESCE(i.total_duration_ns, j.total_duration_ns)
    FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS i(id, attempt, ttft_ns, total_duration_ns)
    WHERE j.id = i.id AND j.attempts = i.attempt AND j.status = 'running'
    RETURNING j.id`;
