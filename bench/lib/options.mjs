// Command-line flags of `npm run bench` (also readable from BENCH_* environment variables).
export const SCENARIOS = ['throughput', 'paced', 'reads', 'memory', 'scale', 'bulk', 'cold-start'];
/** Opt-in scenarios, not part of the default run (each starts stacks of its own): `--scenarios cluster,workers`. */
export const EXTRA_SCENARIOS = ['cluster', 'workers', 'fairness'];
const ALIASES = { 1: 'throughput', 2: 'paced', 3: 'reads', 4: 'memory', 5: 'scale', 6: 'bulk', 7: 'cold-start', 8: 'cluster', 9: 'workers', 10: 'fairness' };

const DEFAULTS = {
  scenarios: SCENARIOS.join(','),
  n: 20000, // jobs in the throughput and scale scenarios
  warmup: 2000, // jobs run and discarded before the first scenario
  inflight: 100, // POSTs in flight in the throughput scenarios
  concurrency: 50, // WORKER_CONCURRENCY, the same C as the peers
  rates: '200,500', // paced scenario: offered jobs/s, one run per rate (and per callback variant)
  pacedCallbacks: 'both', // paced scenario: with, without or both (a callback_url per job or none)
  coldN: 1000, // cold-start scenario: the first jobs on the new database, measured before anything is analysed
  pacedS: 20,
  readS: 10, // seconds of GET /api/jobs/{id}
  readInflight: 32,
  listRows: 1000000,
  listRequests: 300,
  memoryN: 200000,
  scaleWorkers: 2,
  bulkSize: 1000, // jobs per POST /api/jobs/bulk in the bulk scenario (it creates n jobs)
  bulkInflight: 4, // bulk requests in flight
  scaleOutN: 3000, // jobs per setup in the cluster and workers scenarios
  fairnessN: 50000, // fairness scenario: the flooding organization's jobs (per setup: fair and FIFO)
  timeoutS: 240, // cap per scenario; a capped scenario reports what it processed
  peers: 'bullmq,pgboss,graphile', // '' or --no-peers skips them
  peersDir: '',
  cpuProf: false,
  doc: null, // null = write docs/benchmarks.md only when every scenario ran
  out: '',
  label: '',
  merge: '', // an earlier results file: its scenarios fill in the ones this run skips
  render: '', // only rewrite docs/benchmarks.md from this results file (no run)
};

const QUICK = {
  n: 2000,
  warmup: 500,
  pacedS: 5,
  readS: 3,
  listRows: 100000,
  listRequests: 100,
  memoryN: 20000,
  peers: '',
};

export const USAGE = `usage: npm run bench -- [flags]
  --scenarios throughput,paced,reads,memory,scale,bulk,cold-start   (or 1,2,3,4,5,6,7; default all)
  --quick              small N everywhere and no peers (fast iteration)
  --n 20000            jobs in throughput/scale        --inflight 100   POSTs in flight
  --warmup 2000        discarded warm-up jobs          --concurrency 50 worker concurrency
  --rates 200,500 --paced-s 20 --paced-callbacks both  paced scenario (with|without|both)
  --cold-n 1000        cold-start: first jobs on the new database vs steady state
  --read-s 10 --read-inflight 32                       GET /api/jobs/{id}
  --list-rows 1000000 --list-requests 300              GET /api/jobs?limit=100 at that many rows
  --memory-n 200000    jobs in the memory scenario     --scale-workers 2
  --bulk-size 1000 --bulk-inflight 4                   bulk scenario: n jobs through POST /api/jobs/bulk
  --scenarios cluster,workers (8,9; opt-in)            one Redis vs a Redis Cluster; 1/2/3 workers on sleep 20 ms
  --scale-out-n 3000   jobs per setup in cluster/workers
  --scenarios fairness (10; opt-in)                    fair share: a 50,000-job flood vs a neighbour, fair vs FIFO; a concurrency key
  --fairness-n 50000   the flooding organization's jobs per setup
  --timeout-s 240      cap per scenario
  --peers bullmq,pgboss,graphile | --no-peers          --peers-dir <path to shared/bench/peers>
  --cpu-prof           API and worker run with --cpu-prof (profiles in bench/results/prof-*)
  --doc | --no-doc     write docs/benchmarks.md (default: only when all scenarios ran)
  --out <file.json>    result file (default bench/results/<date>-<commit>.json)
  --label <text>       free text carried into the results
  --merge <a.json,b.json> take the scenarios this run skips from earlier results files (e.g. the long memory run)
  --render <file.json> only rewrite docs/benchmarks.md from a results file`;

const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

export function parseOptions(argv, env = process.env) {
  const o = { ...DEFAULTS };
  for (const k of Object.keys(DEFAULTS)) {
    const e = env[`BENCH_${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (e !== undefined && e !== '') o[k] = typeof DEFAULTS[k] === 'number' ? Number(e) : e;
  }
  if (argv.includes('--quick')) Object.assign(o, QUICK);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') continue;
    if (a === '--help' || a === '-h') return { help: true };
    if (a === '--no-peers') {
      o.peers = '';
      continue;
    }
    if (a === '--rate' || a.startsWith('--rate=')) {
      // the single-rate flag of earlier versions
      o.rates = a.includes('=') ? a.slice(7) : argv[++i];
      continue;
    }
    if (a === '--cpu-prof') {
      o.cpuProf = true;
      continue;
    }
    if (a === '--doc' || a === '--no-doc') {
      o.doc = a === '--doc';
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(a);
    if (!m || !(camel(m[1]) in DEFAULTS)) throw new Error(`unknown flag ${a}\n${USAGE}`);
    const key = camel(m[1]);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (typeof DEFAULTS[key] === 'number') {
      const num = Number(v);
      if (!Number.isFinite(num) || num < 0) throw new Error(`${a} must be a non-negative number`);
      o[key] = num;
    } else o[key] = v;
  }
  o.scenarios = String(o.scenarios)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => ALIASES[s] ?? s);
  for (const s of o.scenarios)
    if (!SCENARIOS.includes(s) && !EXTRA_SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s} (know ${[...SCENARIOS, ...EXTRA_SCENARIOS].join(', ')})`);
  o.rates = String(o.rates)
    .split(',')
    .map(Number)
    .filter((r) => Number.isFinite(r) && r > 0);
  if (!o.rates.length) throw new Error('--rates needs at least one positive rate');
  if (!['with', 'without', 'both'].includes(o.pacedCallbacks)) throw new Error('--paced-callbacks is with, without or both');
  o.peers = String(o.peers)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (o.doc === null) o.doc = !o.merge && SCENARIOS.every((s) => o.scenarios.includes(s));
  return o;
}
