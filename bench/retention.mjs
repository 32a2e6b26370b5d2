// Job retention (SPEC F13) on a large table: seeds N old terminal jobs with their events (and a callback
// series with two logged attempts for every tenth job) straight into a fresh database with generate_series,
// then runs the retention step until nothing is left, while a second connection keeps creating and reading
// jobs and records how long each of those took. Run after `npm run build`:
//   node bench/retention.mjs [--jobs 1000000] [--batch 1000] [--pause-ms 20]
// Owns and removes one database `jobsvc_bench_*`.
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase } from './lib/stack.mjs';
import { ensureServices } from '../scripts/services.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { JobRetentionStore, createDb } = await import(path.join(ROOT, 'packages/db/dist/index.js'));
const { runJobRetention } = await import(path.join(ROOT, 'apps/worker/dist/retention/job-retention.js'));
const { createLogger, retentionRowsDeleted } = await import(path.join(ROOT, 'packages/observability/dist/index.js'));

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const JOBS = arg('jobs', 1_000_000);
const BATCH = arg('batch', 1000);
const PAUSE_MS = arg('pause-ms', 20);
const ORG = 'org-00000000-0000-4000-8000-0000000be7c4';
const log = (msg) => console.error(`[retention ${new Date().toISOString().slice(11, 19)}] ${msg}`);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function seed(pool) {
  await pool.query(`INSERT INTO organizations (id, name, webhook_secret) VALUES ($1, 'bench', 'whsec_bench')`, [ORG]);
  const chunk = 100_000;
  for (let from = 1; from <= JOBS; from += chunk) {
    const to = Math.min(JOBS, from + chunk - 1);
    await pool.query(
      `INSERT INTO jobs (id, organization_id, user_id, task, status, created_at, updated_at, completed_at, callback_url)
       SELECT 'job-old-' || i, $1, 'user-bench', 'noop', (ARRAY['completed','failed','cancelled','expired'])[1 + i % 4],
         now() - interval '60 days', now() - interval '60 days', now() - interval '60 days',
         CASE WHEN i % 10 = 0 THEN 'http://127.0.0.1:9/cb' END
       FROM generate_series($2::int, $3::int) i`,
      [ORG, from, to],
    );
    await pool.query(
      `INSERT INTO job_events (job_id, seq, from_status, to_status, at, attempt)
       SELECT 'job-old-' || i, s, (ARRAY[NULL, 'created', 'pending'])[s], (ARRAY['created', 'pending', 'completed'])[s], now() - interval '60 days', 1
       FROM generate_series($1::int, $2::int) i, generate_series(1, 3) s`,
      [from, to],
    );
    await pool.query(
      `WITH d AS (
         INSERT INTO callback_deliveries (webhook_id, job_id, organization_id, job_attempt, callback_url, status, state, attempts, updated_at)
         SELECT 'msg_old_' || i, 'job-old-' || i, $1, 1, 'http://127.0.0.1:9/cb', 'completed', 'delivered', 2, now() - interval '60 days'
         FROM generate_series($2::int, $3::int) i WHERE i % 10 = 0 RETURNING webhook_id, job_id)
       INSERT INTO callback_attempts (webhook_id, attempt, job_id, at, status_code, duration_ms)
       SELECT d.webhook_id, a, d.job_id, now() - interval '60 days', (ARRAY[500, 200])[a], 12 FROM d, generate_series(1, 2) a`,
      [ORG, from, to],
    );
    log(`seeded ${to.toLocaleString('en')} jobs`);
  }
  // Recent and active jobs that must survive.
  await pool.query(
    `INSERT INTO jobs (id, organization_id, user_id, task, status, completed_at)
     SELECT 'job-new-' || i, $1, 'user-bench', 'noop', CASE WHEN i % 2 = 0 THEN 'completed' ELSE 'running' END, CASE WHEN i % 2 = 0 THEN now() END
     FROM generate_series(1, 10000) i`,
    [ORG],
  );
  await pool.query('VACUUM ANALYZE');
}

/** A client's work during the deletion: create a job, read it back; each pair timed. */
function probe(url, tag) {
  const client = new pg.Client({ connectionString: url });
  const latencies = [];
  let stop = false;
  const done = (async () => {
    await client.connect();
    for (let n = 0; !stop; n++) {
      const id = `job-probe-${tag}-${n}`;
      const t = performance.now();
      await client.query(`INSERT INTO jobs (id, organization_id, user_id, task, status) VALUES ($1, $2, 'user-bench', 'noop', 'pending')`, [id, ORG]);
      await client.query(`SELECT id, status FROM jobs WHERE id = $1`, [id]);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 5));
    }
    await client.end();
  })();
  return {
    async finish() {
      stop = true;
      await done;
      return latencies.sort((a, b) => a - b);
    },
  };
}

await ensureServices();
const db = await createDatabase(ROOT);
const prisma = createDb(db.url, 2);
try {
  log(`database ${db.name}; seeding ${JOBS.toLocaleString('en')} terminal jobs`);
  const seedStart = performance.now();
  await seed(db.pool);
  log(`seeded in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
  const { rows: before } = await db.pool.query(
    `SELECT (SELECT count(*) FROM jobs)::int AS jobs, (SELECT count(*) FROM job_events)::int AS events, (SELECT count(*) FROM callback_attempts)::int AS attempts`,
  );
  const load = loadavg().map((l) => l.toFixed(2)).join(' / ');
  const idle = probe(db.url, 'idle');
  await new Promise((r) => setTimeout(r, 3000));
  const idleLatencies = await idle.finish();
  const busy = probe(db.url, 'busy');
  const logger = createLogger({ level: 'warn', service: 'bench' });
  const store = new JobRetentionStore(prisma);
  const start = performance.now();
  let jobs = 0;
  for (;;) {
    // One sweep's step at a time, as the worker runs it, unbounded in batches here to time the whole backlog.
    const n = await runJobRetention(store, logger, { retentionDays: 30, batchSize: BATCH, pauseMs: PAUSE_MS, maxBatchesPerRun: Number.MAX_SAFE_INTEGER });
    jobs += n;
    if (n < BATCH) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const busyLatencies = await busy.finish();
  const deleted = Object.fromEntries((await retentionRowsDeleted.get()).values.map((v) => [v.labels.table, v.value]));
  const rows = Object.values(deleted).reduce((a, b) => a + b, 0);
  const { rows: after } = await db.pool.query(`SELECT (SELECT count(*) FROM jobs WHERE id LIKE 'job-new-%')::int AS kept`);
  const report = {
    jobs_seeded: JOBS,
    rows_before: before[0],
    batch_size: BATCH,
    pause_ms: PAUSE_MS,
    jobs_deleted: jobs,
    rows_deleted: deleted,
    total_rows_deleted: rows,
    seconds: Number(seconds.toFixed(1)),
    jobs_per_second: Math.round(jobs / seconds),
    rows_per_second: Math.round(rows / seconds),
    recent_and_active_kept: after[0].kept,
    probe_idle_ms: { n: idleLatencies.length, p50: pct(idleLatencies, 50)?.toFixed(2), p99: pct(idleLatencies, 99)?.toFixed(2), max: idleLatencies.at(-1)?.toFixed(2) },
    probe_during_ms: { n: busyLatencies.length, p50: pct(busyLatencies, 50)?.toFixed(2), p99: pct(busyLatencies, 99)?.toFixed(2), max: busyLatencies.at(-1)?.toFixed(2) },
    load_average_at_start: load,
    load_average_at_end: loadavg().map((l) => l.toFixed(2)).join(' / '),
  };
  console.log(JSON.stringify(report, null, 2));
} finally {
  await prisma.$disconnect();
  await db.drop();
}
