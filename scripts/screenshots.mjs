// `npm run screenshots`: starts a throwaway service (fresh database, API and worker), puts jobs in every state,
// and captures docs/img/*.png with Debian's Chromium driven by playwright-core: the API docs (/docs), Bull Board
// with those jobs, the CLI's live progress bar (a tmux screen rendered to HTML) and the jobs console (/console:
// the jobs list, a job's page, the admin view). Cleans up after itself.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import AnsiToHtml from 'ansi-to-html';
import { chromium } from 'playwright-core';
import { ensureServices } from './services.mjs';
import { ROOT, startStack } from './screenshots/stack.mjs';
import { captureTerminal } from './screenshots/terminal.mjs';

const { createJobsClient, unwrap } = createRequire(import.meta.url)('@jobs/client');
const OUT = process.env.SCREENSHOTS_DIR ? path.resolve(process.env.SCREENSHOTS_DIR) : path.join(ROOT, 'docs', 'img');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** A callback receiver that takes every delivery. */
async function startReceiver() {
  const server = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(204).end()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/callback`, close: () => new Promise((resolve) => server.close(resolve)) };
}

/**
 * Jobs in each state Bull Board shows: completed and failed (the jobs queue completes a job whatever its outcome;
 * failed entries are callback series that ran out of attempts), active, waiting and delayed.
 */
async function populate(jobs, callbackUrl) {
  const create = async (body) => unwrap(await jobs.POST('/api/jobs', { body }));
  const finishing = [
    ...(await Promise.all([1, 2, 3].map((i) => create({ task: 'noop', metadata: { order: i }, callback_url: callbackUrl })))),
    // Nothing listens on port 9 of this machine: these callbacks fail.
    ...(await Promise.all([1, 2].map((i) => create({ task: 'noop', metadata: { order: i }, callback_url: 'http://127.0.0.1:9/unreachable' })))),
    await create({ task: 'sleep', input: { ms: 800, progress_steps: 4 } }),
    await create({ task: 'sleep', input: { ms: 300, fail: true }, max_attempts: 1 }),
    await create({ task: 'sleep', input: { ms: 200, fail: true }, max_attempts: 1 }),
  ];
  for (const job of finishing) for await (const _ of jobs.watch(job.id)) void _;
  await new Promise((r) => setTimeout(r, 2000));
  // The first job's callback was delivered: the console's job page shows its delivery log.
  return { withCallback: finishing[0].id, startBacklog };
  async function startBacklog() {
    // Started after the CLI capture: with two worker slots, two of these run and two wait.
    for (let i = 0; i < 4; i++) await create({ task: 'sleep', input: { ms: 600_000, progress_steps: 100 } });
    for (let i = 0; i < 2; i++) await create({ task: 'noop', delay_ms: 3_600_000 });
    await new Promise((r) => setTimeout(r, 1500));
  }
}

/** The jobs console: signed in with the operator key, its jobs list, a job with a delivered callback, the admin view. */
async function consolePages(page, stack, jobId, shot) {
  await page.goto(`${stack.base}/console`);
  await page.getByLabel('API key').fill(stack.operatorKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('table.jobs tbody tr').first().waitFor();
  await shot('console-jobs.png');
  await page.goto(`${stack.base}/console/jobs/${jobId}`);
  await page.locator('table.attempts tbody tr').first().waitFor();
  await shot('console-job.png');
  await page.goto(`${stack.base}/console/admin`);
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  await page.waitForLoadState('networkidle');
  await shot('console-admin.png');
}

/** The CLI's progress bar, mid-way: a tmux screen of `jobs create ... --watch`, rendered as a terminal page. */
async function cliPage(stack) {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'screenshots-bin-'));
  try {
    fs.writeFileSync(path.join(bin, 'jobs'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(ROOT, 'apps', 'cli', 'dist', 'main.js')}" "$@"\n`, { mode: 0o755 });
    const screen = await captureTerminal({
      command: `jobs create sleep --input '{"ms":8000,"progress_steps":16}' --watch`,
      cwd: ROOT,
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: os.tmpdir(), TERM: 'xterm-256color', JOBS_API_URL: stack.base, JOBS_API_KEY: stack.operatorKey },
      ready: (s) => /running\s+\[#{13,17}-+\]\s+\d+% step \d+ of 16/.test(s),
    });
    const html = new AnsiToHtml({ fg: '#d8dee9', bg: '#1f2430', escapeXML: true }).toHtml(screen);
    return `<!doctype html><html><head><meta charset="utf-8"><style>
      body { margin: 0; background: #e9ecef; padding: 24px; font-family: system-ui, sans-serif; }
      .window { display: inline-block; border-radius: 8px; overflow: hidden; box-shadow: 0 4px 18px rgba(0,0,0,.25); }
      .bar { background: #3b4252; color: #d8dee9; font-size: 13px; padding: 6px 12px; }
      .bar i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; margin-right: 6px; background: #bf616a; }
      .bar i + i { background: #ebcb8b; } .bar i + i + i { background: #a3be8c; margin-right: 14px; }
      pre { margin: 0; padding: 14px 16px; background: #1f2430; color: #d8dee9; font: 14px/1.45 'DejaVu Sans Mono', monospace; min-width: 860px; min-height: 120px; }
    </style></head><body><div class="window"><div class="bar"><i></i><i></i><i></i>jobs watch</div><pre>${html}</pre></div></body></html>`;
  } finally {
    fs.rmSync(bin, { recursive: true, force: true });
  }
}

async function main() {
  if (!(await ensureServices())) throw new Error('PostgreSQL and Redis are needed');
  fs.mkdirSync(OUT, { recursive: true });
  const receiver = await startReceiver();
  // Two worker slots keep a backlog waiting; callbacks fail fast (two attempts, short backoff).
  const stack = await startStack({ WORKER_CONCURRENCY: '2', CALLBACK_ALLOW_PRIVATE_NETWORKS: 'true', CALLBACK_MAX_ATTEMPTS: '2', CALLBACK_BACKOFF_MS: '200', CALLBACK_TIMEOUT_MS: '1000' }).catch(async (err) => {
    await receiver.close();
    throw err;
  });
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    await stack.stop();
    await receiver.close();
  };
  const interrupted = () => cleanup().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    console.log(`service at ${stack.base} (database ${stack.database}, key prefix ${stack.prefix})`);
    const jobs = createJobsClient({ baseUrl: stack.base, apiKey: stack.operatorKey });
    const { withCallback, startBacklog } = await populate(jobs, receiver.url);
    const terminal = await cliPage(stack);
    await startBacklog();

    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1440, height: 860 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const shot = async (name, target = page) => {
      await target.screenshot({ path: path.join(OUT, name) });
      console.log(`wrote ${path.relative(ROOT, path.join(OUT, name))}`);
    };

    await page.setContent(terminal);
    await shot('cli-progress.png', page.locator('.window'));

    await page.goto(`${stack.base}/docs`, { waitUntil: 'networkidle' });
    await shot('api-docs.png');

    await page.goto(`${stack.base}/admin/login`);
    await page.fill('input[name="key"]', stack.operatorKey);
    await Promise.all([page.waitForURL('**/admin/queues**'), page.click('button[type="submit"]')]);
    await page.waitForLoadState('networkidle');
    await shot('bull-board.png');
    await page.goto(`${stack.base}/admin/queues/queue/jobs?status=latest`, { waitUntil: 'networkidle' });
    await shot('bull-board-jobs.png');
    await consolePages(page, stack, withCallback, shot);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
