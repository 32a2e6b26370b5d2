// The peer harness (../shared/bench/peers: raw BullMQ, pg-boss, graphile-worker) run in the same session.
// Its files are copied to a temporary directory and its own dependencies installed there with `npm ci`,
// so nothing of it enters this repository or its node_modules.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function findPeersDir(root, given) {
  const candidates = given
    ? [given]
    : [path.resolve(root, '../shared/bench/peers'), path.resolve(root, '../../shared/bench/peers')];
  return (
    candidates.find((d) => existsSync(path.join(d, 'run.mjs')) && existsSync(path.join(d, 'package-lock.json'))) ?? null
  );
}

/** A ready-to-run copy (reused while its package-lock.json and scripts are unchanged). */
function installedCopy(src, log) {
  const h = createHash('sha256');
  for (const f of [
    'package-lock.json',
    'run.mjs',
    'bullmq.mjs',
    'pgboss.mjs',
    'graphile.mjs',
    'lib/harness.mjs',
    'lib/pg.mjs',
  ]) {
    if (existsSync(path.join(src, f))) h.update(readFileSync(path.join(src, f)));
  }
  const dir = path.join(os.tmpdir(), `jobsvc-bench-peers-${h.digest('hex').slice(0, 12)}`);
  if (existsSync(path.join(dir, 'node_modules', '.package-lock.json'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(src, dir, {
    recursive: true,
    filter: (p) => !p.includes(`${path.sep}node_modules`) && !p.includes(`${path.sep}results`),
  });
  log(`peers: installing their dependencies in ${dir}`);
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`npm ci for the peers failed (exit ${r.status})`);
  return dir;
}

/**
 * Runs the peers' overlap scenario and their paced scenario at each of our paced rates (the harness takes one
 * rate per run: the first run does overlap and paced at the highest rate, the others paced alone) with our N,
 * C and rates; returns their JSON results.
 */
export async function runPeers(root, opts, log) {
  const src = findPeersDir(root, opts.peersDir);
  if (!src) {
    log('peers: ../shared/bench/peers not found; skipped');
    return { skipped: 'peer harness not found' };
  }
  const dir = installedCopy(src, log);
  const rates = [...opts.rates].sort((a, b) => b - a);
  const runs = [];
  for (const [i, rate] of rates.entries()) runs.push({ rate, ...(await runPeersOnce(dir, opts, rate, i === 0 ? 'overlap,paced' : 'paced', log)) });
  // Their bulk add beside our POST /api/jobs/bulk: the same N and the same jobs per call, overlapped with the worker.
  if (opts.scenarios.includes('bulk')) runs.push({ rate: null, ...(await runPeersOnce(dir, opts, rates[0], 'overlap', log, 'bulk')) });
  const summary = {};
  for (const { rate, results } of runs) {
    for (const r of results) {
      const overlap = r.scenarios?.find((s) => s.api === 'single' && s.mode === 'overlap');
      const pacedRun = r.scenarios?.find((s) => s.api === 'single' && s.mode === 'paced');
      const p = (summary[r.peer] ??= { version: r.version, ok: true, enqueueRate: null, e2eRate: null, pacedByRate: {}, bulkEnqueueRate: null, bulkE2eRate: null, error: null });
      const bulk = r.scenarios?.find((x) => x.api === 'bulk' && x.mode === 'overlap');
      if (bulk) {
        p.bulkEnqueueRate = bulk.enqueueRate ?? null;
        p.bulkE2eRate = bulk.e2eRate ?? null;
      }
      if (rate === null) continue;
      if (overlap) {
        p.enqueueRate = overlap.enqueueRate ?? null;
        p.e2eRate = overlap.e2eRate ?? null;
        p.ok &&= Boolean(overlap.ok);
      }
      p.pacedByRate[rate] = pacedRun?.latencyMs ?? null;
      p.ok &&= Boolean(pacedRun?.ok);
      p.error ??= r.error ?? null;
    }
  }
  for (const p of Object.values(summary)) p.pacedAddToStartMs = p.pacedByRate[rates[0]] ?? null;
  return { dir: src, args: runs.map((r) => r.args), summary, raw: runs.flatMap((r) => r.results) };
}

async function runPeersOnce(dir, opts, rate, modes, log, api = 'single') {
  const out = path.join(dir, `run-${process.pid}-${Date.now()}.jsonl`);
  const args = [
    'run.mjs',
    '--peers',
    opts.peers.join(','),
    '--modes',
    modes,
    '--apis',
    api,
    ...(api === 'bulk' ? ['--bulk-size', String(opts.bulkSize)] : []),
    '--n',
    String(opts.n),
    '--c',
    String(opts.concurrency),
    '--add-concurrency',
    String(opts.inflight),
    '--rate',
    String(rate),
    '--warmup',
    String(opts.warmup),
    '--out',
    out,
  ];
  log(`peers: node ${args.join(' ')}`);
  await new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('close', resolve);
  });
  const lines = existsSync(out)
    ? readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
    : [];
  rmSync(out, { force: true });
  return { args: args.slice(1), results: lines.map((l) => JSON.parse(l)) };
}
