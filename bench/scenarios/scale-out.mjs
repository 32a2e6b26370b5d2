// Scenarios 6 and 7 (opt-in): what a Redis Cluster costs against one Redis, and what more worker processes
// bring on work that is not CPU-free. Each setup is a fresh stack of its own (database, prefix, API, workers).
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiClient } from '../lib/http-client.mjs';
import { createFlatOut, waitTerminal } from '../lib/jobs.mjs';
import { startRedisCluster, startRedisSingle } from '../lib/redis-cluster.mjs';
import { REDIS_URL, createDatabase, createPrefix, freePort, startProcess, waitHealthy } from '../lib/stack.mjs';
import { percentiles, rate, round } from '../lib/stats.mjs';

const WARMUP = 300;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * One setup: an API and `workers` worker processes on a new database; returns its figures. `flat`: jobs are created
 * as fast as the API takes them while the workers run (jobs/s end to end, latency create→completed). `drain`: a
 * backlog of n jobs is created with the workers stopped, then they start (jobs/s from the first start to the last
 * completion, latency started→completed): the workers' own rate, whatever the API's create rate.
 */
async function measure(ctx, { label, redisEnv, workers, concurrency, body, n, mode = 'flat' }) {
  const db = await createDatabase(ROOT);
  const prefix = createPrefix();
  const key = `jsk_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const env = {
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix.prefix,
    BOOTSTRAP_API_KEY: key,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKER_CONCURRENCY: String(concurrency),
    RATE_LIMIT_PER_SECOND: '1000000',
    SHUTDOWN_GRACE_MS: '5000',
    EXPECTED_PROCESSES: String(workers + 1),
    ...redisEnv,
  };
  const procs = [startProcess(ROOT, 'api', env)];
  const startWorkers = async () => {
    const started = [];
    for (let i = 1; i <= workers; i++) started.push(startProcess(ROOT, 'worker', { ...env, WORKER_ID: `bench-w${i}` }));
    procs.push(...started);
    return started;
  };
  const api = new ApiClient(`http://127.0.0.1:${port}`, key, ctx.opts.inflight + 8);
  try {
    await waitHealthy(`http://127.0.0.1:${port}`, procs[0]);
    const running = await startWorkers();
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of procs) if (p.exited !== null) throw new Error(`${p.kind} exited (${p.exited}):\n${p.tail.join('\n')}`);
    const first = await api.request('POST', '/api/jobs', body);
    if (first.status !== 201) throw new Error(`POST /api/jobs answered ${first.status}`);
    const local = { db, actor: { organization_id: first.json.organization_id }, since: null };
    const deadline = Date.now() + ctx.opts.timeoutS * 1000;
    // A discarded warm-up, so that connection set-up and the JIT are not part of the figures.
    local.since = (await db.pool.query('SELECT now() AS t')).rows[0].t;
    const warm = await createFlatOut(api, WARMUP, ctx.opts.inflight, deadline, body);
    await waitTerminal(local, warm.accepted, deadline);
    if (mode === 'drain') {
      for (const w of running) await w.stop();
      procs.splice(procs.length - running.length);
    }
    local.since = (await db.pool.query('SELECT now() AS t')).rows[0].t;
    const c = await createFlatOut(api, n, ctx.opts.inflight, deadline, body);
    if (mode === 'drain') await startWorkers();
    const done = await waitTerminal(local, c.accepted, deadline);
    const from = mode === 'drain' ? 'started_at' : 'created_at';
    const { rows } = await db.pool.query(
      `SELECT extract(epoch FROM completed_at - ${from}) * 1000 AS ms, extract(epoch FROM completed_at) * 1000 AS done,
              extract(epoch FROM started_at) * 1000 AS started
         FROM jobs WHERE organization_id = $1 AND created_at >= $2 AND status = 'completed'`,
      [local.actor.organization_id, local.since],
    );
    const last = Math.max(...rows.map((r) => Number(r.done)));
    const t0 = mode === 'drain' ? Math.min(...rows.map((r) => Number(r.started))) : c.t0;
    // Jobs that ended otherwise, with why (a busy machine can push attempts past their lock).
    const others = (
      await db.pool.query(
        `SELECT status, stop_reason, left(coalesce(error->>'message', ''), 120) AS error, count(*)::int AS n FROM jobs
          WHERE organization_id = $1 AND created_at >= $2 AND status <> 'completed' GROUP BY 1, 2, 3`,
        [local.actor.organization_id, local.since],
      )
    ).rows;
    const result = {
      label,
      workers,
      concurrency,
      n,
      completed: done.completed,
      timedOut: done.timedOut,
      notCompleted: others,
      mode,
      jobsPerS: rate(done.completed, last - t0),
      latencyMs: percentiles(rows.map((r) => Number(r.ms))),
    };
    ctx.log(`${label} (${mode}): ${result.completed}/${n} completed, ${result.jobsPerS} jobs/s, latency p50 ${result.latencyMs?.p50} ms p90 ${result.latencyMs?.p90} ms`);
    return result;
  } finally {
    api.close();
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await db.drop().catch(() => undefined);
    if (redisEnv.REDIS_URL === REDIS_URL) await prefix.clear().catch(() => undefined);
  }
}

const loadavg = async () => (await import('node:os')).default.loadavg().map((v) => round(v, 2));

/**
 * The same noop load on one Redis and on a 3-master cluster (one worker each, same machine), in the order
 * one, cluster, cluster, one, so that a machine getting busier or quieter during the run weighs on both alike.
 */
export async function cluster(ctx) {
  const cl = await startRedisCluster();
  const single = await startRedisSingle().catch(async (err) => {
    await cl.stop();
    throw err;
  });
  try {
    const common = { workers: 1, concurrency: ctx.opts.concurrency, body: { task: 'noop', input: {} }, n: ctx.opts.scaleOutN };
    const loadBefore = await loadavg();
    const one = () => measure(ctx, { ...common, label: 'one Redis', redisEnv: { REDIS_URL: single.url } });
    const many = () => measure(ctx, { ...common, label: 'Redis Cluster (3 masters + 3 replicas)', redisEnv: { REDIS_CLUSTER_NODES: cl.nodes } });
    const runs = [await one(), await many(), await many(), await one()];
    const mean = (label, pick) => {
      const xs = runs.filter((r) => r.label === label).map(pick);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const oneMean = { label: 'one Redis', jobsPerS: mean('one Redis', (r) => r.jobsPerS), p50: mean('one Redis', (r) => r.latencyMs.p50) };
    const clusterMean = { label: runs[1].label, jobsPerS: mean(runs[1].label, (r) => r.jobsPerS), p50: mean(runs[1].label, (r) => r.latencyMs.p50) };
    return {
      runs,
      single: oneMean,
      cluster: clusterMean,
      rateRatio: round(clusterMean.jobsPerS / oneMean.jobsPerS, 2),
      p50Ratio: round(clusterMean.p50 / oneMean.p50, 2),
      loadavg: { before: loadBefore, after: await loadavg() },
    };
  } finally {
    await cl.stop();
    await single.stop();
  }
}

/** 1, 2 and 3 worker processes on jobs that each sleep 20 ms (I/O-like waiting), concurrency 50 each. */
export async function workers(ctx) {
  const runs = [];
  const loadBefore = await loadavg();
  for (const w of [1, 2, 3]) {
    runs.push(
      await measure(ctx, { label: `${w} worker(s), sleep 20 ms`, redisEnv: { REDIS_URL }, workers: w, concurrency: 50, body: { task: 'sleep', input: { ms: 20 } }, n: ctx.opts.scaleOutN, mode: 'drain' }),
    );
  }
  return { runs, loadavg: { before: loadBefore, after: await loadavg() } };
}
