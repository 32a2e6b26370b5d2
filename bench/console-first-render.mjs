// The jobs console's time to first render with a large jobs table: a fresh database seeded with `--rows` jobs
// (SQL generate_series, as the reads scenario), the built API, and Debian's Chromium measuring from navigation
// start to the first row of the jobs view in the DOM. `node bench/console-first-render.mjs [--rows N] [--runs N]`.
// Owns and removes: one database `jobsvc_bench_*`, Redis keys under one prefix, the API process.
/* global window, document, sessionStorage, MutationObserver -- functions passed to page.evaluate run in the browser */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { REDIS_URL, createDatabase, createPrefix, freePort, startProcess, waitHealthy } from './lib/stack.mjs';
import { ensureServices } from '../scripts/services.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '7' } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);
const CHUNK = 100000;
const log = (msg) => console.error(`[console-bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function seed(pool, actor) {
  for (let from = 1; from <= ROWS; from += CHUNK) {
    const to = Math.min(ROWS, from + CHUNK - 1);
    await pool.query(
      `INSERT INTO jobs (id, organization_id, user_id, job_type, task, status, stop_reason, background, input, result, metadata,
         attempts, max_attempts, backoff_ms, event_seq, created_at, updated_at, started_at, completed_at)
       SELECT 'job-' || gen_random_uuid(), $1, $2, 'job', 'noop',
              CASE WHEN g % 20 = 0 THEN 'failed' ELSE 'completed' END,
              CASE WHEN g % 20 = 0 THEN 'error' ELSE 'end_turn' END,
              true, '{}', '{}', jsonb_build_object('n', g), 1, 1, 1000, 4,
              ts, ts, ts, ts
       FROM generate_series($3::int, $4::int) g, LATERAL (SELECT now() - interval '1 hour' - g * interval '2 seconds' AS ts) t`,
      [actor.organization_id, actor.user_id, from, to],
    );
  }
  await pool.query('VACUUM ANALYZE jobs');
}

/** Milliseconds from navigation start to the first jobs row in the DOM, observed in the page itself. */
async function firstRender(context, url, key) {
  const page = await context.newPage();
  await page.addInitScript((k) => {
    sessionStorage.setItem('jobs-console.api-key', k);
    new MutationObserver((_, observer) => {
      if (document.querySelector('table.jobs tbody tr')) {
        window.__firstRow = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  }, key);
  await page.goto(`${url}/console/jobs`);
  await page.waitForFunction(() => window.__firstRow !== undefined, undefined, { timeout: 60000 });
  const ms = await page.evaluate(() => window.__firstRow);
  await page.close();
  return ms;
}

async function main() {
  if (!(await ensureServices())) throw new Error('PostgreSQL and Redis are needed');
  const db = await createDatabase(ROOT);
  const prefix = createPrefix();
  const key = `jsk_bench_${randomBytes(16).toString('hex')}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const api = startProcess(ROOT, 'api', {
    DATABASE_URL: db.url,
    REDIS_URL,
    QUEUE_PREFIX: prefix.prefix,
    BOOTSTRAP_API_KEY: key,
    PORT: String(port),
    RATE_LIMIT_PER_SECOND: '100000',
  });
  let browser;
  try {
    await waitHealthy(url, api);
    const created = await fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'noop' }),
    });
    const actor = await created.json();
    log(`seeding ${ROWS} jobs`);
    const t = Date.now();
    await seed(db.pool, actor);
    log(`seeded in ${Math.round((Date.now() - t) / 1000)} s`);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const load = os.loadavg();
    // The first run has a cold browser cache and a cold API; the others load the assets from the cache.
    const times = [];
    for (let i = 0; i < RUNS; i++) times.push(await firstRender(context, url, key));
    const warm = times.slice(1).sort((a, b) => a - b);
    const result = {
      rows: ROWS,
      first_ms: Math.round(times[0]),
      warm_median_ms: Math.round(warm[Math.floor(warm.length / 2)] ?? times[0]),
      runs_ms: times.map(Math.round),
      loadavg: load.map((l) => Number(l.toFixed(2))),
      cpus: os.cpus().length,
    };
    console.log(JSON.stringify(result));
  } finally {
    await browser?.close().catch(() => undefined);
    await api.stop();
    await db.drop();
    await prefix.clear();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
