// Scenario 10 (opt-in): fair share across organizations (SPEC F16). Each setup is a fresh stack of its own
// (database, prefix, API, workers), like the cluster and workers scenarios.
//  - flood: organization A creates `--fairness-n` noop jobs through POST /api/jobs/bulk; 5 s after it starts, B
//    creates 100 jobs one request at a time. B's create→running while A's backlog drains, and A's throughput,
//    with FAIR_SCHEDULING on and off (same machine, same run).
//  - key: 1,000 `sleep` jobs sharing a concurrency_key with limit 5, two worker processes: the running count
//    sampled from Postgres every 10 ms (never above 5, and 5 reached).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuMsOf } from '../lib/cpu.mjs';
import { ApiClient, runBounded } from '../lib/http-client.mjs';
import { createDatabase, createPrefix, freePort, startProcess, waitHealthy } from '../lib/stack.mjs';
import { percentiles, rate, round } from '../lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const B_JOBS = 100;
const B_AFTER_MS = 5000;
const KEY_JOBS = 1000;
const KEY_LIMIT = 5;

const loadavg = () => os.loadavg().map((v) => round(v, 2));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An API and `workers` worker processes on a new database and prefix; `org()` makes a second organization with an admin key. */
async function stack(ctx, { workers, env }) {
  const db = await createDatabase(ROOT);
  const prefix = createPrefix();
  const key = `jsk_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const base = {
    DATABASE_URL: db.url,
    QUEUE_PREFIX: prefix.prefix,
    BOOTSTRAP_API_KEY: key,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKER_CONCURRENCY: String(ctx.opts.concurrency),
    RATE_LIMIT_PER_SECOND: '1000000',
    SHUTDOWN_GRACE_MS: '5000',
    EXPECTED_PROCESSES: String(workers + 1),
    ...env,
  };
  const procs = [startProcess(ROOT, 'api', base)];
  const url = `http://127.0.0.1:${port}`;
  const api = new ApiClient(url, key, 16);
  const clients = [api];
  await waitHealthy(url, procs[0]);
  for (let i = 1; i <= workers; i++) procs.push(startProcess(ROOT, 'worker', { ...base, WORKER_ID: `bench-fair-w${i}` }));
  await sleep(2000);
  for (const p of procs) if (p.exited !== null) throw new Error(`${p.kind} exited (${p.exited}):\n${p.tail.join('\n')}`);
  const expect201 = (r, what) => {
    if (r.status !== 201) throw new Error(`${what} answered ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json;
  };
  return {
    db,
    api,
    /** CPU milliseconds used so far by the API, the workers and the (shared) Redis server. */
    cpu: () => ({
      api: cpuMsOf(procs[0].pid) ?? 0,
      workers: procs.slice(1).reduce((sum, p) => sum + (cpuMsOf(p.pid) ?? 0), 0),
      redis: ctx.redisPid ? (cpuMsOf(ctx.redisPid) ?? 0) : 0,
    }),
    async org(name) {
      const org = expect201(await api.request('POST', '/api/admin/organizations', { name }), 'create organization');
      const user = expect201(await api.request('POST', '/api/admin/users', { organization_id: org.id, name: `${name}-user` }), 'create user');
      const k = expect201(await api.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'admin' }), 'create key');
      const client = new ApiClient(url, k.key, 16);
      clients.push(client);
      return { id: org.id, api: client };
    },
    async stop() {
      for (const c of clients) c.close();
      for (const p of procs.reverse()) await p.stop().catch(() => undefined);
      await db.drop().catch(() => undefined);
      await prefix.clear().catch(() => undefined);
    },
  };
}

/** Polls until every job of the organizations is terminal or the deadline passes. */
async function waitAllTerminal(db, orgIds, total, deadline) {
  for (;;) {
    const { rows } = await db.pool.query(
      `SELECT count(*) FILTER (WHERE status IN ('completed','failed','cancelled','expired'))::int AS terminal FROM jobs WHERE organization_id = ANY($1)`,
      [orgIds],
    );
    if (rows[0].terminal >= total || Date.now() > deadline) return rows[0].terminal;
    await sleep(250);
  }
}

async function flood(ctx, fair) {
  const label = fair ? 'fair' : 'fifo';
  const s = await stack(ctx, { workers: 1, env: { FAIR_SCHEDULING: String(fair) } });
  try {
    const deadline = Date.now() + ctx.opts.timeoutS * 1000;
    const [a, b] = [await s.org('flooder'), await s.org('neighbour')];
    const n = ctx.opts.fairnessN;
    const size = 1000;
    const loadBefore = loadavg();
    const cpuBefore = s.cpu();
    const t0 = Date.now();
    let sent = 0;
    const creatingA = runBounded(
      Math.ceil(n / size),
      2,
      async () => {
        const count = Math.min(size, n - sent);
        sent += count;
        const r = await a.api.request('POST', '/api/jobs/bulk', { jobs: Array.from({ length: count }, () => ({ task: 'noop', input: {} })) });
        if (r.status !== 201) throw new Error(`bulk create answered ${r.status}`);
      },
      deadline,
    );
    await sleep(B_AFTER_MS);
    for (let i = 0; i < B_JOBS; i++) {
      const r = await b.api.request('POST', '/api/jobs', { task: 'noop', input: {} });
      if (r.status !== 201) throw new Error(`create answered ${r.status}`);
    }
    const bDoneCreating = Date.now();
    await creatingA;
    const terminal = await waitAllTerminal(s.db, [a.id, b.id], n + B_JOBS, deadline);
    const cpuAfter = s.cpu();
    const perJob = (k) => round((cpuAfter[k] - cpuBefore[k]) / (n + B_JOBS), 3);
    // The `pending` event is written by the API once the job is queued (staged, or added to BullMQ): it splits
    // the wait into the create itself and the queue.
    const { rows: bRows } = await s.db.pool.query(
      `SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms,
              extract(epoch FROM (SELECT e.at FROM job_events e WHERE e.job_id = jobs.id AND e.to_status = 'pending' ORDER BY e.seq LIMIT 1) - created_at) * 1000 AS create_ms
         FROM jobs WHERE organization_id = $1 AND started_at IS NOT NULL`,
      [b.id],
    );
    const { rows: aStats } = await s.db.pool.query(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
              extract(epoch FROM min(started_at)) * 1000 AS first, extract(epoch FROM max(completed_at)) * 1000 AS last,
              count(*) FILTER (WHERE started_at > (SELECT max(started_at) FROM jobs WHERE organization_id = $2))::int AS after_b
         FROM jobs WHERE organization_id = $1`,
      [a.id, b.id],
    );
    const st = aStats[0];
    const result = {
      label,
      fairScheduling: fair,
      floodJobs: n,
      neighbourJobs: B_JOBS,
      terminal,
      floodCompleted: st.completed,
      floodJobsPerS: rate(st.completed, Number(st.last) - Number(st.first)),
      /** A's jobs that started after B's last one did: how much of the flood B did not wait for. */
      floodStartedAfterNeighbour: st.after_b,
      neighbourCreateToRunningMs: percentiles(bRows.map((r) => Number(r.ms))),
      /** Of which: insert to `pending` (the API's own work, and for FIFO the BullMQ add). */
      neighbourCreateToQueuedMs: percentiles(bRows.map((r) => Number(r.create_ms))),
      neighbourCreatingS: round((bDoneCreating - t0 - B_AFTER_MS) / 1000),
      /** CPU milliseconds per job (creates included): steadier than jobs/s on a shared machine. Redis is shared with other work. */
      cpuMsPerJob: { api: perJob('api'), worker: perJob('workers'), redis: perJob('redis') },
      loadBefore,
      loadAfter: loadavg(),
    };
    const l = result.neighbourCreateToRunningMs;
    ctx.log(`fairness ${label}: flood ${result.floodJobsPerS} jobs/s; neighbour create→running p50 ${l?.p50} ms p99 ${l?.p99} ms; ${st.after_b} flood jobs started after the neighbour's last`);
    return result;
  } finally {
    await s.stop();
  }
}

async function keyLimit(ctx) {
  const s = await stack(ctx, { workers: 2, env: { FAIR_SCHEDULING: 'true' } });
  try {
    const deadline = Date.now() + ctx.opts.timeoutS * 1000;
    const a = await s.org('keyed');
    const loadBefore = loadavg();
    const job = { task: 'sleep', input: { ms: 20 }, concurrency_key: 'bench-key', concurrency_limit: KEY_LIMIT };
    let most = 0;
    let samples = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const { rows } = await s.db.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE organization_id = $1 AND status = 'running'`, [a.id]);
        most = Math.max(most, rows[0].n);
        samples++;
        await sleep(10);
      }
    })();
    const t0 = Date.now();
    const r = await a.api.request('POST', '/api/jobs/bulk', { jobs: Array.from({ length: KEY_JOBS }, () => job) });
    if (r.status !== 201) throw new Error(`bulk create answered ${r.status}`);
    const terminal = await waitAllTerminal(s.db, [a.id], KEY_JOBS, deadline);
    done = true;
    await sampler;
    const { rows } = await s.db.pool.query(
      `SELECT count(DISTINCT e.worker_id)::int AS workers FROM job_events e JOIN jobs j ON j.id = e.job_id WHERE j.organization_id = $1 AND e.to_status = 'running'`,
      [a.id],
    );
    const result = {
      jobs: KEY_JOBS,
      limit: KEY_LIMIT,
      terminal,
      maxRunning: most,
      limitReached: most === KEY_LIMIT,
      samples,
      workersUsed: rows[0].workers,
      seconds: round((Date.now() - t0) / 1000),
      loadBefore,
      loadAfter: loadavg(),
    };
    ctx.log(`fairness key: ${KEY_JOBS} jobs, limit ${KEY_LIMIT}: max running ${most} over ${samples} samples, on ${rows[0].workers} workers`);
    return result;
  } finally {
    await s.stop();
  }
}

/**
 * Fair, FIFO (fair scheduling off), FIFO, fair — so a machine getting busier or quieter weighs on both alike — then
 * the key limit. The neighbour's figures are the first fair and FIFO runs'; throughput compares the means.
 */
export async function fairness(ctx) {
  const on = await flood(ctx, true);
  const off = await flood(ctx, false);
  const off2 = await flood(ctx, false);
  const on2 = await flood(ctx, true);
  const key = await keyLimit(ctx);
  const mean = (a, b) => (a.floodJobsPerS && b.floodJobsPerS ? (a.floodJobsPerS + b.floodJobsPerS) / 2 : null);
  const ratio = mean(on, on2) && mean(off, off2) ? round(mean(on, on2) / mean(off, off2), 3) : null;
  const p = on.neighbourCreateToRunningMs;
  return {
    fair: on,
    fifo: off,
    fair2: on2,
    fifo2: off2,
    key,
    throughputRatio: ratio,
    targets: {
      neighbourP50Le50ms: p ? p.p50 <= 50 : false,
      neighbourP99Le250ms: p ? p.p99 <= 250 : false,
      throughputAtLeast90pc: ratio !== null && ratio >= 0.9,
      keyNeverAboveLimit: key.maxRunning <= KEY_LIMIT,
      keyLimitReached: key.limitReached,
    },
  };
}
