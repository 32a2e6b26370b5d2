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

/** The rows of the current scenario: created since its epoch began (see startEpoch), by the list index. */
const SCENARIO_ROWS = `FROM jobs WHERE organization_id = $1 AND job_type = 'job' AND created_at >= $2`;

/** Polls until `count` of the scenario's rows are terminal (or the deadline); returns counts by status. */
export async function waitTerminal(ctx, count, deadline, pollMs = 100) {
  for (;;) {
    const { rows } = await ctx.db.pool.query(
      `SELECT count(*) FILTER (WHERE status IN ('completed','failed','cancelled','expired'))::int AS terminal,
              count(*) FILTER (WHERE status = 'completed')::int AS completed, count(*)::int AS total ${SCENARIO_ROWS}`,
      [ctx.actor.organization_id, ctx.since],
    );
    const r = rows[0];
    if (r.terminal >= count || Date.now() >= deadline) return { ...r, timedOut: r.terminal < count };
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

/** Last completion among the scenario's rows, as the rows record it (ms epoch). */
export async function lastCompletedAt(ctx) {
  const { rows } = await ctx.db.pool.query(`SELECT extract(epoch FROM max(completed_at)) * 1000 AS t ${SCENARIO_ROWS}`, [
    ctx.actor.organization_id,
    ctx.since,
  ]);
  return rows[0].t === null ? null : Number(rows[0].t);
}

/**
 * The scenario's rows with their insert, `pending` (queued), start and completion times (ms epoch). Row times are
 * when each statement's transaction began, so a write that waited for a batch counts its wait up to that time.
 */
export async function scenarioTimes(ctx) {
  const { rows } = await ctx.db.pool.query(
    `SELECT id, extract(epoch FROM created_at) * 1000 AS inserted,
            (SELECT extract(epoch FROM e.at) * 1000 FROM job_events e WHERE e.job_id = jobs.id AND e.seq = 2 AND e.to_status = 'pending') AS queued,
            extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM completed_at) * 1000 AS completed ${SCENARIO_ROWS}`,
    [ctx.actor.organization_id, ctx.since],
  );
  return rows;
}

/**
 * Starts a scenario: earlier rows stay (a running service has history), are vacuumed and analysed, and
 * the scenario counts only rows created from now on. Emptying the tables instead (TRUNCATE) leaves
 * statistics that say "no rows", and PostgreSQL then plans sequential scans for the whole scenario,
 * including its foreign-key checks: a state no deployment stays in past autovacuum's first ANALYZE.
 */
export async function startEpoch(ctx) {
  await ctx.db.pool.query('VACUUM ANALYZE jobs');
  await ctx.db.pool.query('VACUUM ANALYZE job_events');
  const { rows } = await ctx.db.pool.query('SELECT now() AS t');
  ctx.since = rows[0].t;
}
