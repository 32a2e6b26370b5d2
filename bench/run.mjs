// End-to-end benchmark of the job service beside its peers (issue 6). See `npm run bench -- --help`
// and docs/benchmarks.md. Owns and removes: one database `jobsvc_bench_*`, Redis keys under one
// `jobsvc-bench-*` prefix, the API/worker processes and the callback receiver it starts.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { startCallbackReceiver } from './lib/callback-receiver.mjs';
import { cpuMsOf } from './lib/cpu.mjs';
import { ApiClient } from './lib/http-client.mjs';
import { NOOP, startEpoch } from './lib/jobs.mjs';
import { USAGE, parseOptions } from './lib/options.mjs';
import { runPeers } from './lib/peers.mjs';
import { commitOf, compare, machine, markdown } from './lib/report.mjs';
import { REDIS_URL, createDatabase, createPrefix, freePort, startProcess, waitHealthy } from './lib/stack.mjs';
import { bulk } from './scenarios/bulk.mjs';
import { memory } from './scenarios/memory.mjs';
import { coldStart } from './scenarios/cold-start.mjs';
import { paced } from './scenarios/paced.mjs';
import { reads } from './scenarios/reads.mjs';
import { scale } from './scenarios/scale.mjs';
import { cluster, workers } from './scenarios/scale-out.mjs';
import { fairness } from './scenarios/fairness.mjs';
import { throughput } from './scenarios/throughput.mjs';
import { ensureServices } from '../scripts/services.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Run order: reads seeds a large table, so it goes last among the default ones; cluster and workers use stacks of their own.
const RUNNERS = { throughput, bulk, paced, scale, memory, reads, cluster, workers, fairness };
const log = (msg) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function serviceVersions(pool) {
  const { rows } = await pool.query('SHOW server_version');
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const info = await r.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return {
      postgres: rows[0].server_version,
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
      redisPid: cpuMsOf(pid) === null ? null : pid,
    };
  } finally {
    r.disconnect();
  }
}

async function runOurs(opts, results) {
  const db = await createDatabase(ROOT);
  const prefix = createPrefix();
  const callbacks = await startCallbackReceiver();
  const key = `jsk_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const profDir = opts.cpuProf ? path.join(ROOT, 'bench/results', `prof-${Date.now()}`) : undefined;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix.prefix,
    BOOTSTRAP_API_KEY: key,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    WORKER_CONCURRENCY: String(opts.concurrency),
    CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true',
    // The limiter runs (its cost is part of every request) but never throttles the benchmark's single key.
    RATE_LIMIT_PER_SECOND: '1000000',
    SHUTDOWN_GRACE_MS: '5000',
  };
  const procs = [];
  const apiProc = startProcess(ROOT, 'api', env, { cpuProfDir: profDir });
  procs.push(apiProc);
  const api = new ApiClient(`http://127.0.0.1:${port}`, key, Math.max(opts.inflight, opts.readInflight) + 8);
  let workerN = 0;
  const ctx = {
    opts,
    api,
    apiProc,
    db,
    callbacks,
    log,
    workers: [],
    actor: null,
    startWorker: async () => {
      const w = startProcess(
        ROOT,
        'worker',
        { ...env, WORKER_ID: `bench-worker-${++workerN}` },
        { cpuProfDir: profDir },
      );
      procs.push(w);
      await new Promise((r) => setTimeout(r, 1500)); // the worker connects and starts polling
      if (w.exited !== null) throw new Error(`worker exited (${w.exited}):\n${w.tail.join('\n')}`);
      return w;
    },
    stopWorker: async (w) => {
      await w.stop();
    },
  };
  try {
    results.services = await serviceVersions(db.pool);
    ctx.redisPid = results.services.redisPid;
    await waitHealthy(`http://127.0.0.1:${port}`, apiProc);
    ctx.workers.push(await ctx.startWorker());
    log(`stack up: database ${db.name}, prefix ${prefix.prefix}, API on ${port}`);

    const first = await api.request('POST', '/api/jobs', NOOP);
    if (first.status !== 201) throw new Error(`POST /api/jobs answered ${first.status}: ${JSON.stringify(first.json)}`);
    ctx.actor = { organization_id: first.json.organization_id, user_id: first.json.user_id };
    // Before anything analyses the new database or warms the processes up.
    if (opts.scenarios.includes('cold-start')) {
      log('scenario cold-start');
      try {
        results.scenarios['cold-start'] = await coldStart(ctx);
      } catch (err) {
        log(`scenario cold-start failed: ${err.stack ?? err}`);
        results.scenarios['cold-start'] = { error: String(err.message ?? err) };
      }
    }
    await startEpoch(ctx);
    if (opts.warmup > 0) await throughput(ctx, { n: opts.warmup, label: 'warm-up (discarded)' });

    for (const name of Object.keys(RUNNERS)) {
      if (!opts.scenarios.includes(name)) continue;
      log(`scenario ${name}`);
      await startEpoch(ctx);
      try {
        results.scenarios[name] = await RUNNERS[name](ctx);
      } catch (err) {
        log(`scenario ${name} failed: ${err.stack ?? err}`);
        results.scenarios[name] = { error: String(err.message ?? err) };
      }
      for (const p of [apiProc, ...ctx.workers]) {
        if (p.exited !== null) throw new Error(`${p.kind} exited (${p.exited}) during ${name}:\n${p.tail.join('\n')}`);
      }
    }
  } finally {
    api.close();
    for (const p of procs.reverse()) await p.stop().catch(() => undefined);
    await callbacks.close();
    await db.drop().catch((err) => log(`could not drop ${db.name}: ${err}`));
    await prefix.clear().catch((err) => log(`could not delete keys of ${prefix.prefix}: ${err}`));
    if (profDir) log(`CPU profiles in ${profDir}`);
  }
}

function writeDoc(results) {
  const appendixFile = path.join(ROOT, 'bench/optimisations.md');
  const appendix = existsSync(appendixFile) ? readFileSync(appendixFile, 'utf8') : '';
  writeFileSync(path.join(ROOT, 'docs/benchmarks.md'), markdown(results, appendix));
  log('docs/benchmarks.md written');
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (opts.render) {
    const results = JSON.parse(readFileSync(opts.render, 'utf8'));
    // The verdicts follow the current targets, whichever version of this script wrote the file.
    results.comparison = compare(results);
    writeDoc(results);
    return;
  }
  if (!(await ensureServices())) process.exit(1);
  const date = new Date().toISOString();
  const commit = commitOf(ROOT);
  const results = {
    date,
    commit,
    label: opts.label || null,
    machine: machine(),
    options: opts,
    scenarios: {},
    peers: null,
    notes: [],
  };
  await runOurs(opts, results);
  for (const file of opts.merge ? opts.merge.split(',') : []) {
    const earlier = JSON.parse(readFileSync(file, 'utf8'));
    for (const [name, value] of Object.entries(earlier.scenarios ?? {})) {
      if (results.scenarios[name]) continue;
      results.scenarios[name] = {
        ...value,
        from: { file: path.relative(ROOT, path.resolve(file)), date: earlier.date, commit: earlier.commit },
      };
      results.notes.push(
        `Scenario "${name}" is taken from an earlier run (${earlier.date}, commit ${earlier.commit}).`,
      );
    }
  }
  if (opts.peers.length) {
    try {
      results.peers = await runPeers(ROOT, opts, log);
    } catch (err) {
      log(`peers failed: ${err}`);
      results.peers = { error: String(err) };
    }
  }
  results.comparison = compare(results);
  // Only full runs are kept in bench/results/ (and in git); partial and quick runs go to an ignored folder.
  const dir = path.join(ROOT, 'bench/results', opts.doc ? '' : 'partial');
  mkdirSync(dir, { recursive: true });
  const file = opts.out || path.join(dir, `${date.slice(0, 19).replace(/:/g, '')}-${commit}.json`);
  results.file = path.relative(ROOT, file);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  log(`results: ${results.file}`);
  if (opts.doc) {
    writeDoc(results);
  }
  console.log(markdown(results));
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  process.exit(1);
});
