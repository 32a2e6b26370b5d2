// Scenario 6: N noop jobs created through POST /api/jobs/bulk (`--bulk-size` per request, `--bulk-inflight`
// requests in flight), with the worker(s) running: the create rate and the end-to-end rate.
import { cpuMeter } from '../lib/cpu.mjs';
import { Outcomes, nowMs, runBounded } from '../lib/http-client.mjs';
import { NOOP, lastCompletedAt, waitTerminal } from '../lib/jobs.mjs';
import { rate, round } from '../lib/stats.mjs';

export async function bulk(ctx) {
  const { n, bulkSize, bulkInflight } = ctx.opts;
  const requests = Math.ceil(n / bulkSize);
  const deadline = Date.now() + ctx.opts.timeoutS * 1000;
  const meter = await cpuMeter(ctx);
  const outcomes = new Outcomes();
  let accepted = 0;
  let next = 0;
  const t0 = nowMs();
  await runBounded(
    requests,
    bulkInflight,
    async () => {
      const size = Math.min(bulkSize, n - next * bulkSize);
      next++;
      try {
        const res = await ctx.api.request('POST', '/api/jobs/bulk', { jobs: Array.from({ length: size }, () => NOOP) });
        if (outcomes.record(res, 201)) accepted += size;
      } catch (err) {
        outcomes.record(err, 201);
      }
    },
    deadline,
  );
  const tCreated = nowMs();
  const done = await waitTerminal(ctx, accepted, deadline);
  const last = await lastCompletedAt(ctx);
  const cpu = await meter.stop();
  const createMs = tCreated - t0;
  const e2eMs = last === null ? null : last - t0;
  const result = {
    n,
    bulkSize,
    bulkInflight,
    requests,
    accepted,
    rejectedRequests: outcomes.failed,
    rejectSamples: outcomes.samples,
    completed: done.completed,
    notCompleted: done.total - done.completed,
    timedOut: done.timedOut,
    createMs: round(createMs, 1),
    createRate: rate(accepted, createMs),
    e2eMs: round(e2eMs, 1),
    e2eRate: e2eMs === null ? null : rate(done.completed, e2eMs),
    cpuMsPerJob: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, done.completed ? round(v / done.completed, 3) : null])),
  };
  ctx.log(
    `bulk: ${accepted} created in ${requests} requests of ${bulkSize} at ${result.createRate}/s, ${result.completed} completed, end-to-end ${result.e2eRate} jobs/s; CPU ms/job ${JSON.stringify(result.cpuMsPerJob)}`,
  );
  return result;
}
