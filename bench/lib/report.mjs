// The results as JSON and as the markdown of docs/benchmarks.md.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { round } from './stats.mjs';

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
  };
}

export function commitOf(root) {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !==
      '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const TARGETS = {
  e2eRate: 2000,
  pacedRunningP50: 3,
  pacedRunningP99: 15,
  pacedCallbackRunningP50: 5,
  callbackP50: 20,
  callbackP99: 100,
  cpuWithCallback: 1.8,
  coldVsSteady: 0.9,
  getByIdRate: 5000,
  listP50: 10,
  memoryEndVsPlateau: 1.1,
  scaleRatio: 1.6,
  vsGraphile: 1.6,
  vsPgboss: 2,
  bulkCreateRate: 10000,
  bulkE2eRate: 5000,
};

/** The paced runs as a list (results before the variants had one run, with a callback per job). */
export function pacedVariants(paced) {
  if (!paced || paced.error) return [];
  return paced.variants ?? [{ ...paced, callbacks: true }];
}

const variant = (s, rate, callbacks) => pacedVariants(s.paced).find((v) => v.offeredRate === rate && v.callbacks === callbacks);
const cpuTotal = (v) => (v?.cpuMsPerJob ? round(Object.values(v.cpuMsPerJob).reduce((a, b) => a + (b ?? 0), 0), 2) : null);
const peerPaced = (p, rate) => p.pacedByRate?.[rate] ?? (rate === 500 ? p.pacedAddToStartMs : null) ?? null;

/** Ratios against the peers and the verdict for every target (issues 6 and 14). */
export function compare(results) {
  const s = results.scenarios;
  const peers = results.peers?.summary ?? {};
  const e2e = s.throughput?.e2eRate ?? null;
  const ratio = (a, b) => (a && b ? round(a / b, 2) : null);
  const quiet500 = variant(s, 500, false);
  const ratios = {};
  for (const [name, p] of Object.entries(peers)) {
    const theirs = peerPaced(p, 500);
    ratios[name] = {
      e2e: ratio(e2e, p.e2eRate),
      pacedP50: quiet500?.createToRunningMs && theirs ? round(quiet500.createToRunningMs.p50 / theirs.p50, 2) : null,
    };
  }
  const scaleRatio = ratio(s.scale?.e2eRate, e2e);
  const check = (value, ok) => ({ value, met: value === null || value === undefined ? null : ok(value) });
  const targets = {};
  for (const rate of [200, 500]) {
    const v = variant(s, rate, false);
    targets[`paced ${rate}/s without callbacks: create→running p50 ≤ 3 ms`] = check(v?.createToRunningMs?.p50, (x) => x <= TARGETS.pacedRunningP50);
    targets[`paced ${rate}/s without callbacks: create→running p99 ≤ 15 ms`] = check(v?.createToRunningMs?.p99, (x) => x <= TARGETS.pacedRunningP99);
  }
  const cb500 = variant(s, 500, true);
  Object.assign(targets, {
    'paced 500/s with a callback per job: create→running p50 ≤ 5 ms': check(cb500?.createToRunningMs?.p50, (x) => x <= TARGETS.pacedCallbackRunningP50),
    'paced 500/s: terminal→callback received p50 ≤ 20 ms': check(cb500?.terminalToCallbackMs?.p50, (x) => x <= TARGETS.callbackP50),
    'paced 500/s: terminal→callback received p99 ≤ 100 ms': check(cb500?.terminalToCallbackMs?.p99, (x) => x <= TARGETS.callbackP99),
    'CPU per job with a callback ≤ 1.8 ms (API + worker + PostgreSQL + Redis, paced 500/s)': check(cpuTotal(cb500), (x) => x <= TARGETS.cpuWithCallback),
    'new database: first 1,000 jobs within 10 % of steady state (rate ratio)': check(s['cold-start']?.firstVsSteady, (x) => x >= TARGETS.coldVsSteady),
    'end-to-end ≥ 2,000 jobs/s (1 API, 1 worker)': check(e2e, (v) => v >= TARGETS.e2eRate),
    '≥ 1.6× graphile-worker end-to-end': check(ratios.graphile?.e2e, (v) => v >= TARGETS.vsGraphile),
    '≥ 2× pg-boss end-to-end': check(ratios.pgboss?.e2e, (v) => v >= TARGETS.vsPgboss),
    'GET /api/jobs/{id} ≥ 5,000 req/s': check(s.reads?.getById?.rate, (v) => v >= TARGETS.getByIdRate),
    'list page at 1M rows p50 ≤ 10 ms': check(
      s.reads?.rows >= 1000000 ? s.reads?.list?.latencyMs?.p50 : null,
      (v) => v <= TARGETS.listP50,
    ),
    'worker RSS end within 10% of plateau': check(s.memory?.endVsPlateau, (v) => v <= TARGETS.memoryEndVsPlateau),
    '2 workers ≥ 1.6× one': check(scaleRatio, (v) => v >= TARGETS.scaleRatio),
    'POST /api/jobs/bulk ≥ 10,000 jobs/s created': check(s.bulk?.createRate, (v) => v >= TARGETS.bulkCreateRate),
    'POST /api/jobs/bulk ≥ 5,000 jobs/s end to end': check(s.bulk?.e2eRate, (v) => v >= TARGETS.bulkE2eRate),
  });
  const fair = s.fairness && !s.fairness.error ? s.fairness : null;
  if (fair) {
    const fairRuns = [fair.fair, fair.fair2].filter(Boolean);
    const worst = (pick) => (fairRuns.length ? Math.max(...fairRuns.map(pick)) : null);
    Object.assign(targets, {
      'fair share: neighbour create→running p50 ≤ 50 ms (worst fair run)': check(worst((r) => r.neighbourCreateToRunningMs?.p50 ?? Infinity), (v) => v <= 50),
      'fair share: neighbour create→running p99 ≤ 250 ms (worst fair run)': check(worst((r) => r.neighbourCreateToRunningMs?.p99 ?? Infinity), (v) => v <= 250),
      'fair share: throughput ≥ 90 % of FIFO (means)': check(fair.throughputRatio ?? null, (v) => v >= 0.9),
      'concurrency key limit 5 on 2 workers: never above, and reached': check(fair.key ? `max ${fair.key.maxRunning}, reached ${fair.key.limitReached ? 'yes' : 'no'}` : null, () => fair.key.maxRunning <= fair.key.limit && fair.key.limitReached),
    });
  }
  return { ratios, scaleRatio, targets };
}

const cell = (v, unit = '') =>
  v === null || v === undefined ? 'n/a' : `${typeof v === 'number' ? v.toLocaleString('en-US') : v}${unit}`;
const row = (label, ours, others) => `| ${[label, ours, ...others].join(' | ')} |`;
const pct = (p) => (p ? `${cell(p.p50)} / ${cell(p.p90)} / ${cell(p.p99)} / ${cell(p.max)}` : 'n/a');

/** The page; `appendix` (bench/optimisations.md, written by hand) follows the generated part. */
export function markdown(results, appendix = '') {
  const { scenarios: s, machine: m, comparison: c } = results;
  const peers = results.peers?.summary ?? {};
  const lines = [];
  lines.push('# Benchmarks', '');
  lines.push(
    `Latest run of \`npm run bench\` (bench/run.mjs): ${results.date}, commit \`${results.commit}\`${results.label ? `, ${results.label}` : ''}.`,
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB RAM, ${m.platform}, Node ${m.node}; PostgreSQL ${results.services?.postgres ?? '?'}, Redis ${results.services?.redis ?? '?'}.`,
    `Load average when the run started: ${m.loadAvgAtStart.join(' / ')} (other work on the machine makes figures noisy).`,
    `Raw results: \`${results.file}\`.`,
    '',
    'One API process and one worker process (built code, `NODE_ENV=production`, `LOG_LEVEL=warn`,',
    `\`WORKER_CONCURRENCY=${results.options.concurrency}\`) against local Redis and PostgreSQL in a fresh database, driven over HTTP`,
    `with keep-alive connections and ${results.options.inflight} POSTs in flight; every job is \`noop\`. Producer, API, worker, Redis and`,
    'PostgreSQL share the same cores.',
    '',
    '## Side by side',
    '',
    ['', 'ours (HTTP API + Postgres + BullMQ)', ...Object.keys(peers).map((p) => `${p} ${peers[p].version ?? ''}`)]
      .join(' | ')
      .replace(/^/, '| ') + ' |',
    ['---', '---', ...Object.keys(peers).map(() => '---')].join(' | ').replace(/^/, '| ') + ' |',
    row(
      `end-to-end jobs/s, ${cell(s.throughput?.n)} jobs, single creates, overlapped`,
      cell(s.throughput?.e2eRate),
      Object.values(peers).map((p) => cell(p.e2eRate)),
    ),
    row(
      'create (enqueue) rate /s',
      cell(s.throughput?.createRate),
      Object.values(peers).map((p) => cell(p.enqueueRate)),
    ),
    ...pacedVariants(s.paced).map((v) =>
      row(
        `paced ${cell(v.offeredRate)}/s ${v.callbacks ? 'with a callback per job' : 'without callbacks'}: create→running p50 / p99 ms`,
        `${cell(v.createToRunningMs?.p50)} / ${cell(v.createToRunningMs?.p99)}`,
        Object.values(peers).map((p) => {
          const theirs = peerPaced(p, v.offeredRate);
          return v.callbacks || !theirs ? '—' : `${cell(theirs.p50)} / ${cell(theirs.p99)}`;
        }),
      ),
    ),
    ...(s.bulk && !s.bulk.error
      ? [
          row(
            `bulk: jobs created /s, ${cell(s.bulk.accepted)} jobs, ${cell(s.bulk.bulkSize)} per call (ours: POST /api/jobs/bulk)`,
            cell(s.bulk.createRate),
            Object.values(peers).map((p) => cell(p.bulkEnqueueRate)),
          ),
          row(
            'bulk: end-to-end jobs/s, overlapped',
            cell(s.bulk.e2eRate),
            Object.values(peers).map((p) => cell(p.bulkE2eRate)),
          ),
        ]
      : []),
    row(
      'ours ÷ peer, end-to-end',
      '',
      Object.keys(peers).map((p) => cell(c.ratios[p]?.e2e, '×')),
    ),
    '',
    "Peers: `../shared/bench/peers` (tuned profile, worker in the producer's process, single adds, the same N, concurrency",
    'and in-flight count), run right after ours in the same session. Their latency is add→handler start; ours is the',
    "client's send time → the row's `started_at` (set by the worker's `running` transition, just before the handler).",
    'Ours persists every job and every transition in PostgreSQL, as pg-boss and graphile-worker do; raw BullMQ keeps',
    'nothing durable (Redis without persistence here).',
    '',
    '## Our scenarios',
    '',
    '| scenario | figure |',
    '| --- | --- |',
  );
  if (s.throughput)
    lines.push(
      `| 1 throughput | ${cell(s.throughput.accepted)} created in ${cell(s.throughput.createMs)} ms (${cell(s.throughput.createRate)}/s); first POST → last completed ${cell(s.throughput.e2eMs)} ms = **${cell(s.throughput.e2eRate)} jobs/s** |`,
    );
  for (const v of pacedVariants(s.paced)) {
    const st = v.stagesMs;
    lines.push(
      `| 2 paced ${v.offeredRate}/s × ${v.seconds} s, ${v.callbacks ? 'a callback per job' : 'no callbacks'} (achieved ${cell(v.achievedRate)}/s) | create→running p50/p90/p99/max ms: **${pct(v.createToRunningMs)}** |`,
      ...(st
        ? [
            `| | of which p50: send→insert ${cell(st.sendToInsert?.p50)}, insert→\`pending\` ${cell(st.insertToQueued?.p50)}, \`pending\`→\`running\` ${cell(st.queuedToRunning?.p50)} ms |`,
          ]
        : []),
      `| | create→completed p50/p90/p99/max ms: ${pct(v.createToCompletedMs)} |`,
      ...(v.callbacks
        ? [`| | terminal→callback received p50/p90/p99/max ms: ${v.terminalToCallbackMs ? pct(v.terminalToCallbackMs) : 'n/a (no callback delivery in this build)'} |`]
        : []),
      `| | HTTP POST round trip p50/p99 ms: ${cell(v.httpCreateMs?.p50)} / ${cell(v.httpCreateMs?.p99)}; CPU ms/job ${Object.entries(v.cpuMsPerJob ?? {})
        .map(([k, x]) => `${k} ${cell(x)}`)
        .join(', ')} (total ${cell(cpuTotal(v))}) |`,
    );
  }
  const cold = s['cold-start'];
  if (cold && !cold.error) {
    const seq = (p) =>
      Object.entries(p.seqScans ?? {})
        .map(([t, x]) => `${t} ${cell(x.scans)} scans / ${cell(x.rowsRead)} rows`)
        .join(', ') || 'none';
    lines.push(
      `| 6 cold start, new database, no warm-up | first ${cell(cold.n)} jobs **${cell(cold.first.e2eRate)} jobs/s**, next ${cell(cold.n)} ${cell(cold.next.e2eRate)} jobs/s, after VACUUM ANALYZE ${cell(cold.steady.e2eRate)} jobs/s (first ÷ steady **${cell(cold.firstVsSteady)}**) |`,
      `| | PostgreSQL CPU ms/job first / next / steady: ${cell(cold.first.cpuMsPerJob?.postgres)} / ${cell(cold.next.cpuMsPerJob?.postgres)} / ${cell(cold.steady.cpuMsPerJob?.postgres)}; sequential scans first: ${seq(cold.first)}; next: ${seq(cold.next)} |`,
    );
  }
  if (s.reads) {
    lines.push(
      `| 3 reads, ${cell(s.reads.rows)} rows | GET /api/jobs/{id}: **${cell(s.reads.getById.rate)} req/s** (${s.reads.getById.inflight} in flight; p50 ${cell(s.reads.getById.latencyMs?.p50)} / p99 ${cell(s.reads.getById.latencyMs?.p99)} ms) |`,
      `| | GET /api/jobs?limit=100 (first page and keyset next pages), one at a time: p50 **${cell(s.reads.list.latencyMs?.p50)}** / p99 ${cell(s.reads.list.latencyMs?.p99)} ms |`,
    );
  }
  if (s.memory)
    lines.push(
      `| 4 memory, ${cell(s.memory.jobs)} jobs | worker RSS start ${s.memory.startMb} MB, plateau ${s.memory.plateauMb} MB, peak ${s.memory.peakMb} MB, end ${s.memory.endMb} MB (end ÷ plateau ${s.memory.endVsPlateau}); ${cell(s.memory.run?.e2eRate)} jobs/s |`,
    );
  if (s.scale)
    lines.push(
      `| 5 scale, ${s.scale.workers} workers | **${cell(s.scale.e2eRate)} jobs/s** end-to-end (${cell(c.scaleRatio, '×')} one worker) |`,
    );
  if (s.bulk)
    lines.push(
      `| 6 bulk, ${cell(s.bulk.bulkSize)} per request × ${cell(s.bulk.bulkInflight)} in flight | ${cell(s.bulk.accepted)} created in ${cell(s.bulk.createMs)} ms (**${cell(s.bulk.createRate)}/s**); first POST → last completed ${cell(s.bulk.e2eMs)} ms = **${cell(s.bulk.e2eRate)} jobs/s** |`,
    );
  for (const [name, v] of Object.entries(s))
    if (v?.error) lines.push(`| ${name} | failed: ${String(v.error).split('\n')[0]} |`);
  lines.push(...scaleOutMarkdown(s));
  lines.push(...fairnessMarkdown(s));
  lines.push('', '## Targets', '', '| target | measured | met |', '| --- | --- | --- |');
  for (const [t, v] of Object.entries(c.targets))
    lines.push(`| ${t} | ${cell(v.value)} | ${v.met === null ? 'n/a' : v.met ? 'yes' : 'no'} |`);
  lines.push(
    '',
    '## Running it',
    '',
    '```sh',
    'npm run bench                       # everything, then the peers; writes bench/results/*.json and this file',
    'npm run bench -- --quick            # small N, no peers: a quick check',
    'npm run bench -- --scenarios 1,2 --no-peers --n 5000',
    'npm run bench -- --scenarios cluster,workers --warmup 0 --no-peers   # scale-out (opt-in; own stacks)',
    'npm run bench -- --scenarios fairness --warmup 0 --no-peers          # fair share (opt-in; own stacks)',
    'npm run bench -- --help',
    '```',
    '',
  );
  if (results.notes?.length) lines.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  if (appendix) lines.push(appendix.trim(), '');
  return lines.join('\n');
}

/** The opt-in scale-out scenarios (bench/scenarios/scale-out.mjs), when the results hold them. */
export function scaleOutMarkdown(s) {
  if (!s.cluster?.runs && !s.workers?.runs) return [];
  const lines = ['', '## Scale-out', ''];
  const load = (l) => (l ? `load average ${l.before.join(' / ')} before, ${l.after.join(' / ')} after` : '');
  const row = (r) =>
    `| ${r.label} | ${cell(r.completed)} / ${cell(r.n)} | **${cell(r.jobsPerS)}** | ${cell(r.latencyMs?.p50)} / ${cell(r.latencyMs?.p90)} / ${cell(r.latencyMs?.p99)} |`;
  if (s.cluster?.runs) {
    lines.push(
      `Redis Cluster against one Redis, on the same machine (${load(s.cluster.loadavg)}): the same ${cell(s.cluster.runs[0].n)} \`noop\` jobs created flat out through one API into one worker (concurrency ${s.cluster.runs[0].concurrency}), each setup a fresh stack, run in the order one Redis, cluster, cluster, one Redis; one Redis is a private redis-server and the cluster 3 masters + 3 replicas, all on loopback without persistence, all of the service's keys on one master (\`{hash tag}\` prefix). Latency is create → completed.`,
      '',
      '| setup | completed | jobs/s | latency p50 / p90 / p99 ms |',
      '| --- | --- | --- | --- |',
      ...s.cluster.runs.map(row),
      `| cluster ÷ one Redis (means) | | ${cell(s.cluster.rateRatio, '×')} | p50 ${cell(s.cluster.p50Ratio, '×')} |`,
      '',
    );
  }
  if (s.workers?.runs) {
    const r = s.workers.runs;
    lines.push(
      `Worker processes on work that is not CPU-free (${load(s.workers.loadavg)}): ${cell(r[0].n)} \`sleep\` jobs of 20 ms, concurrency ${r[0].concurrency} per worker, created as a backlog with the workers stopped; then 1, 2 or 3 workers drain it. Jobs/s runs from the first start to the last completion; latency is started → completed.`,
      '',
      '| setup | completed | jobs/s | latency p50 / p90 / p99 ms |',
      '| --- | --- | --- | --- |',
      ...r.map(row),
      '',
    );
  }
  return lines;
}

/** The opt-in fair share scenario (bench/scenarios/fairness.mjs), when the results hold it. */
export function fairnessMarkdown(s) {
  const f = s.fairness;
  if (!f?.fair) return [];
  const ms = (p) => (p ? `${cell(p.p50)} / ${cell(p.p99)}` : '–');
  const row = (r) =>
    `| ${r.fairScheduling ? 'fair (`FAIR_SCHEDULING=true`)' : 'FIFO (`FAIR_SCHEDULING=false`)'} | **${cell(r.floodJobsPerS)}** | ${ms(r.neighbourCreateToRunningMs)} | ${ms(r.neighbourCreateToQueuedMs)} | ${cell(r.floodStartedAfterNeighbour)} | ${r.cpuMsPerJob ? `${r.cpuMsPerJob.api} / ${r.cpuMsPerJob.worker} / ${r.cpuMsPerJob.redis}` : '–'} | ${r.loadBefore.join(' / ')} → ${r.loadAfter.join(' / ')} |`;
  const yes = (v) => (v ? 'yes' : 'no');
  return [
    '',
    '## Fair share',
    '',
    `Organization A creates ${cell(f.fair.floodJobs)} \`noop\` jobs through \`POST /api/jobs/bulk\` (1,000 per request, 2 in flight); 5 s after it starts, organization B creates ${cell(f.fair.neighbourJobs)} jobs one request at a time. One worker (concurrency as above), each setup a fresh stack, in the order fair, FIFO, FIFO, fair. A's rate runs from its first start to its last completion; B's create → running is \`started_at − created_at\`, of which create → queued is the insert to the API's \`pending\` write. CPU is milliseconds per job of the API / worker / Redis processes (Redis is shared with the rest of the machine).`,
    '',
    "| setup | A jobs/s | B create → running p50 / p99 ms | B create → queued p50 / p99 ms | A's jobs started after B's last | CPU ms/job API / worker / Redis | load average before → after |",
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...[f.fair, f.fifo, f.fifo2, f.fair2].filter(Boolean).map(row),
    `| fair ÷ FIFO (means) | ${cell(f.throughputRatio, '×')} | | | | | |`,
    '',
    `A concurrency key: ${cell(f.key.jobs)} \`sleep\` jobs of 20 ms with \`concurrency_limit\` ${f.key.limit}, two worker processes, the organization's running jobs counted in Postgres every 10 ms (${cell(f.key.samples)} samples): at most **${cell(f.key.maxRunning)}** at once (limit reached: ${yes(f.key.limitReached)}), on ${cell(f.key.workersUsed)} workers, all ${cell(f.key.terminal)} done in ${cell(f.key.seconds)} s (load average ${f.key.loadBefore.join(' / ')} → ${f.key.loadAfter.join(' / ')}).`,
    '',
    `Targets: B p50 ≤ 50 ms ${yes(f.targets.neighbourP50Le50ms)}, B p99 ≤ 250 ms ${yes(f.targets.neighbourP99Le250ms)}, throughput ≥ 90 % of FIFO ${yes(f.targets.throughputAtLeast90pc)}, key never above its limit ${yes(f.targets.keyNeverAboveLimit)}, limit reached ${yes(f.targets.keyLimitReached)}.`,
  ];
}
