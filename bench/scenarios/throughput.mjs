// Scenario 1 (and 5): N noop jobs created as fast as the API accepts them, with the worker(s) running.
import { cpuMeter } from '../lib/cpu.mjs';
import { createFlatOut, lastCompletedAt, waitTerminal } from '../lib/jobs.mjs';
import { rate, round } from '../lib/stats.mjs';

export async function throughput(ctx, { n = ctx.opts.n, label = 'throughput' } = {}) {
  const deadline = Date.now() + ctx.opts.timeoutS * 1000;
  const meter = await cpuMeter(ctx);
  const c = await createFlatOut(ctx.api, n, ctx.opts.inflight, deadline);
  const done = await waitTerminal(ctx, c.accepted, deadline);
  const last = await lastCompletedAt(ctx);
  const cpu = await meter.stop();
  await new Promise((r) => setTimeout(r, 1200));
  const db = await meter.dbActivity();
  const createMs = c.tCreated - c.t0;
  const e2eMs = last === null ? null : last - c.t0;
  const result = {
    n,
    accepted: c.accepted,
    rejected: c.failed,
    rejectSamples: c.failures,
    completed: done.completed,
    notCompleted: done.total - done.completed,
    timedOut: done.timedOut,
    createMs: round(createMs, 1),
    createRate: rate(c.accepted, createMs),
    e2eMs: round(e2eMs, 1),
    e2eRate: e2eMs === null ? null : rate(done.completed, e2eMs),
    // CPU milliseconds per completed job, by process group (robust against a busy machine).
    cpuMsPerJob: Object.fromEntries(
      Object.entries(cpu).map(([k, v]) => [k, done.completed ? round(v / done.completed, 3) : null]),
    ),
    // PostgreSQL work per completed job: commits (≈ statements, each batched statement is one) and rows.
    dbPerJob: Object.fromEntries(Object.entries(db).map(([k, v]) => [k, done.completed ? round(v / done.completed, 2) : null])),
  };
  ctx.log(
    `${label}: ${result.accepted} created at ${result.createRate}/s, ${result.completed} completed, end-to-end ${result.e2eRate} jobs/s; CPU ms/job ${JSON.stringify(result.cpuMsPerJob)}; PostgreSQL per job ${JSON.stringify(result.dbPerJob)}`,
  );
  return result;
}
