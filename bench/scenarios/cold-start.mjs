// Scenario 6: a brand-new database with no warm-up. The first `coldN` jobs run on tables PostgreSQL has never
// analysed (as on a new deployment before autovacuum's first visit), then as many again still without our
// VACUUM ANALYZE, then the same count after it (steady state). Runs first, before the warm-up.
import { throughput } from './throughput.mjs';
import { startEpoch } from '../lib/jobs.mjs';
import { round } from '../lib/stats.mjs';

async function epochWithoutAnalyze(ctx) {
  const { rows } = await ctx.db.pool.query('SELECT now() AS t');
  ctx.since = rows[0].t;
}

/** When PostgreSQL last analysed `jobs` (ours or autovacuum's), null if never. */
async function analysedAt(ctx) {
  const { rows } = await ctx.db.pool.query(
    `SELECT greatest(last_analyze, last_autoanalyze) AS t FROM pg_stat_user_tables WHERE relname = 'jobs'`,
  );
  return rows[0]?.t ?? null;
}

/** Sequential scans of the hot tables so far (a plan made for an empty table reads them whole). */
async function seqScans(ctx) {
  await ctx.db.pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await ctx.db.pool.query(
    `SELECT relname, seq_scan::float8 AS scans, seq_tup_read::float8 AS rows_read FROM pg_stat_user_tables
     WHERE relname IN ('jobs', 'job_events', 'callback_deliveries', 'organizations', 'users')`,
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { scans: r.scans, rowsRead: r.rows_read }]));
}

/** One phase, with the sequential scans it caused (read after pg_stat's flush delay). */
async function phase(ctx, n, label) {
  const before = await seqScans(ctx);
  const run = await throughput(ctx, { n, label });
  const after = await seqScans(ctx);
  const seq = {};
  for (const [t, v] of Object.entries(after)) {
    const d = { scans: v.scans - (before[t]?.scans ?? 0), rowsRead: v.rowsRead - (before[t]?.rowsRead ?? 0) };
    if (d.scans > 0) seq[t] = d;
  }
  return { ...run, seqScans: seq };
}

export async function coldStart(ctx) {
  const n = ctx.opts.coldN;
  await epochWithoutAnalyze(ctx);
  const first = await phase(ctx, n, `cold start: first ${n} jobs`);
  const analysedAfterFirst = await analysedAt(ctx);
  await epochWithoutAnalyze(ctx);
  const next = await phase(ctx, n, `cold start: next ${n} jobs, still not analysed by us`);
  await startEpoch(ctx);
  const steady = await phase(ctx, n, `cold start: ${n} jobs after VACUUM ANALYZE (steady state)`);
  const ratio = (a, b) => (a && b ? round(a / b, 2) : null);
  const result = {
    n,
    first,
    next,
    steady,
    autovacuumAnalysedDuringFirst: analysedAfterFirst !== null,
    firstVsSteady: ratio(first.e2eRate, steady.e2eRate),
    nextVsSteady: ratio(next.e2eRate, steady.e2eRate),
    // PostgreSQL CPU per job is steadier than a rate on a busy machine.
    postgresCpuFirstVsSteady: ratio(first.cpuMsPerJob.postgres, steady.cpuMsPerJob.postgres),
  };
  ctx.log(
    `cold start: first ${n} ${first.e2eRate} jobs/s, next ${n} ${next.e2eRate} jobs/s, steady ${steady.e2eRate} jobs/s (first ÷ steady ${result.firstVsSteady}; PostgreSQL CPU ms/job ${first.cpuMsPerJob.postgres} vs ${steady.cpuMsPerJob.postgres}); sequential scans first ${JSON.stringify(first.seqScans)}, next ${JSON.stringify(next.seqScans)}, steady ${JSON.stringify(steady.seqScans)}`,
  );
  return result;
}
