// Creating jobs over HTTP and waiting for their rows, shared by the scenarios.
import { Outcomes, nowMs, runBounded } from './http-client.mjs';

export const NOOP = { task: 'noop', input: {} };

/**
 * POSTs `n` noop jobs with `inflight` requests in flight. Returns the first send time, the time the last
 * response arrived, and how many were accepted (201).
 */
export async function createFlatOut(api, n, inflight, deadline, body = NOOP) {
  const outcomes = new Outcomes();
  const t0 = nowMs();
  await runBounded(
    n,
    inflight,
    async () => {
      try {
        outcomes.record(await api.request('POST', '/api/jobs', body), 201);
      } catch (err) {
        outcomes.record(err, 201);
      }
    },
    deadline,
  );
  return { t0, tCreated: nowMs(), accepted: outcomes.ok, failed: outcomes.failed, failures: outcomes.samples };
}

/** Polls until `count` rows are terminal (or the deadline); returns counts by status. */
export async function waitTerminal(pool, count, deadline, pollMs = 20) {
  for (;;) {
    const { rows } = await pool.query(
      `SELECT count(*) FILTER (WHERE status IN ('completed','failed','cancelled','expired'))::int AS terminal,
              count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*)::int AS total FROM jobs`,
    );
    const r = rows[0];
    if (r.terminal >= count || Date.now() >= deadline) return { ...r, timedOut: r.terminal < count };
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

/** Last completion as the rows record it (ms epoch). */
export async function lastCompletedAt(pool) {
  const { rows } = await pool.query(`SELECT extract(epoch FROM max(completed_at)) * 1000 AS t FROM jobs`);
  return rows[0].t === null ? null : Number(rows[0].t);
}

/** Empties the job tables between scenarios so each starts from the same state. */
export async function resetJobs(pool) {
  await pool.query('TRUNCATE jobs, job_events CASCADE');
  await pool.query('VACUUM ANALYZE jobs');
  await pool.query('VACUUM ANALYZE job_events');
}
