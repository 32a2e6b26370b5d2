// Scenario 3: reads at a large table. Seeds `listRows` finished jobs for the bench organization, then measures
// GET /api/jobs/{id} (throughput with requests in flight) and GET /api/jobs?limit=100 (latency, one at a time,
// following the Link header's keyset cursor for a few pages before starting again at the first page).
import { cpuMeter } from '../lib/cpu.mjs';
import { Outcomes, nowMs, runBounded } from '../lib/http-client.mjs';
import { percentiles, rate, round } from '../lib/stats.mjs';

const SEED_CHUNK = 100000;
const PAGES_PER_WALK = 5;

async function seed(ctx, rows) {
  const t = nowMs();
  // Server-side generation in bulk statements: no per-row round trips, every index maintained as in production.
  for (let from = 1; from <= rows; from += SEED_CHUNK) {
    const to = Math.min(rows, from + SEED_CHUNK - 1);
    await ctx.db.pool.query(
      `INSERT INTO jobs (id, organization_id, user_id, job_type, task, status, stop_reason, background, input, result, metadata,
         attempts, max_attempts, backoff_ms, event_seq, created_at, updated_at, started_at, completed_at)
       SELECT 'job-' || gen_random_uuid(), $1, $2, 'job', 'noop',
              CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END,
              CASE WHEN g % 20 = 0 THEN 'error' ELSE 'end_turn' END,
              true, '{}', '{}', jsonb_build_object('n', g), 1, 1, 1000, 4,
              ts, ts, ts, ts
       FROM generate_series($3::int, $4::int) g, LATERAL (SELECT now() - interval '1 hour' - g * interval '2 seconds' AS ts) t`,
      [ctx.actor.organization_id, ctx.actor.user_id, from, to],
    );
  }
  await ctx.db.pool.query('VACUUM ANALYZE jobs');
  return nowMs() - t;
}

export async function reads(ctx) {
  const rows = ctx.opts.listRows;
  const seedMs = await seed(ctx, rows);
  ctx.log(`reads: seeded ${rows} rows in ${Math.round(seedMs / 1000)} s`);
  const { rows: sample } = await ctx.db.pool.query('SELECT id FROM jobs ORDER BY random() LIMIT 10000');
  const ids = sample.map((r) => r.id);

  // GET by id: bounded in-flight loop for readS seconds.
  const byId = new Outcomes();
  const lat = [];
  const getMeter = await cpuMeter(ctx);
  const t0 = nowMs();
  const deadline = Date.now() + ctx.opts.readS * 1000;
  await runBounded(
    Number.MAX_SAFE_INTEGER,
    ctx.opts.readInflight,
    async (i) => {
      const at = nowMs();
      try {
        byId.record(await ctx.api.request('GET', `/api/jobs/${ids[i % ids.length]}`), 200);
      } catch (err) {
        byId.record(err, 200);
      }
      lat.push(nowMs() - at);
    },
    deadline,
  );
  const getMs = nowMs() - t0;
  const getCpu = await getMeter.stop();

  // List pages, one request at a time.
  const list = new Outcomes();
  const listLat = [];
  const listMeter = await cpuMeter(ctx);
  let path = '/api/jobs?limit=100';
  for (let i = 0; i < ctx.opts.listRequests; i++) {
    const at = nowMs();
    const res = await ctx.api.request('GET', path);
    listLat.push(nowMs() - at);
    list.record(res, 200);
    const next = /<([^>]+)>;\s*rel="next"/.exec(String(res.headers.link ?? ''));
    path = next && (i + 1) % PAGES_PER_WALK !== 0 ? next[1] : '/api/jobs?limit=100';
  }
  const listCpu = await listMeter.stop();
  const perRequest = (cpu, n) => ({ api: round(cpu.api / n, 3), postgres: round(cpu.postgres / n, 3) });
  const result = {
    rows,
    seedS: round(seedMs / 1000, 1),
    getById: {
      seconds: round(getMs / 1000, 1),
      inflight: ctx.opts.readInflight,
      ok: byId.ok,
      failed: byId.failed,
      failures: byId.samples,
      rate: rate(byId.ok, getMs),
      latencyMs: percentiles(lat),
      cpuMsPerRequest: perRequest(getCpu, byId.ok + byId.failed),
    },
    list: {
      requests: ctx.opts.listRequests,
      ok: list.ok,
      failed: list.failed,
      failures: list.samples,
      latencyMs: percentiles(listLat),
      cpuMsPerRequest: perRequest(listCpu, ctx.opts.listRequests),
    },
  };
  ctx.log(
    `reads: GET /api/jobs/{id} ${result.getById.rate} req/s; list limit=100 p50 ${result.list.latencyMs?.p50} / p99 ${result.list.latencyMs?.p99} ms at ${rows} rows; CPU ms/request by id ${JSON.stringify(result.getById.cpuMsPerRequest)}, list ${JSON.stringify(result.list.cpuMsPerRequest)}`,
  );
  return result;
}
