import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CallbackReceiver } from '../fakes/callback-receiver';
import { ROOT } from '../support/processes';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const CONSOLE_INDEX = path.join(ROOT, 'apps', 'console', 'dist', 'index.html');

interface Job {
  id: string;
  status: string;
}

/**
 * The console in Chromium against a running API and worker: what an operator or a member sees, live. Failed
 * loads that the console expects and shows (a member's 403 on the admin probe, another organization's 404)
 * are the only console messages allowed; anything else (a script error, a CSP violation) fails the test.
 */
describe('jobs console (apps/console) in a browser', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let browser: Browser;
  let context: BrowserContext;
  let errors: string[];

  beforeAll(async () => {
    if (!fs.existsSync(CONSOLE_INDEX))
      throw new Error(`${CONSOLE_INDEX} is missing: run \`npm run build\` before the e2e tests`);
    receiver = await new CallbackReceiver().start();
    stack = await startStack({
      worker: true,
      env: { CALLBACK_BACKOFF_MS: '50', CALLBACK_MAX_ATTEMPTS: '3', CALLBACK_TIMEOUT_MS: '2000' },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await receiver?.stop();
  });

  beforeEach(async () => {
    errors = [];
    // A context per test: its own sessionStorage, as a new tab's session would have.
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  });
  afterEach(async () => {
    await context.close();
  });

  const newPage = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    return page;
  };
  const open = async (key: string, where = '/console'): Promise<Page> => {
    const page = await newPage();
    await page.goto(`${stack.url}${where}`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  };
  const create = async (body: Record<string, unknown>, key?: string): Promise<Job> => {
    const r = await stack.request('POST', '/api/jobs', body, key);
    expect(r.status).toBe(201);
    return r.body as Job;
  };
  const unexpectedErrors = (allowed: RegExp[] = []) => errors.filter((e) => !allowed.some((a) => a.test(e)));

  it('serves the console from its own assets under a strict content security policy', async () => {
    const res = await fetch(`${stack.url}/console/jobs?status=running`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect((await fetch(`${stack.url}${script}`)).status).toBe(200);
    expect((await fetch(`${stack.url}/console/assets/missing.js`)).status).toBe(404);
  });

  it('signs in with an operator key, keeps it in sessionStorage only, and shows a new job appear and complete live', async () => {
    const page = await open(stack.settings.BOOTSTRAP_API_KEY!);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toContain(stack.settings.BOOTSTRAP_API_KEY);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);

    const job = await create({ task: 'sleep', input: { ms: 1500 } });
    const row = page.locator(`tr[data-job-id="${job.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    await page.locator(`tr[data-job-id="${job.id}"][data-status="completed"]`).waitFor({ timeout: 15_000 });

    // Filters live in the address bar.
    await page.getByLabel('failed').check();
    await page.waitForURL(/status=failed/);
    await row.waitFor({ state: 'detached' });
    expect(unexpectedErrors()).toEqual([]);
  }, 60_000);

  it('cancels a running job from its page, and the page follows its events', async () => {
    const job = await create({ task: 'sleep', input: { ms: 60_000, progress_steps: 60 } });
    await waitFor(
      async () => ((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status === 'running',
      'the job to run',
    );
    const page = await open(stack.settings.BOOTSTRAP_API_KEY!, `/console/jobs/${job.id}`);
    await page.locator('#job-title .status-running').waitFor();
    await page.locator('.timeline li[data-to="running"]').waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#job-title .status-cancelled').waitFor();
    expect(((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status).toBe('cancelled');
    await page.locator('.timeline li[data-to="cancelled"]').waitFor();
    expect(await page.getByRole('button', { name: 'Cancel' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Retry' }).isEnabled()).toBe(true);
    expect(unexpectedErrors()).toEqual([]);
  }, 60_000);

  it("shows a callback's delivery log: a 500, then a 200", async () => {
    const job = await create({ task: 'noop', callback_url: receiver.url('/console-callback', [{ status: 500 }]) });
    const page = await open(stack.settings.BOOTSTRAP_API_KEY!, `/console/jobs/${job.id}`);
    const rows = page.locator('table.attempts tbody tr');
    await page.locator('table.attempts tbody tr[data-status-code="200"]').waitFor({ timeout: 15_000 });
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status-code')))).toEqual([
      '500',
      '200',
    ]);
    expect(await page.getByRole('button', { name: 'Redeliver callback' }).isEnabled()).toBe(true);
    expect(unexpectedErrors()).toEqual([]);
  }, 60_000);

  it('creates a source and uploads a file to it with progress; the file enters the pipeline', async () => {
    const page = await open(stack.settings.BOOTSTRAP_API_KEY!, '/console/sources');
    await page.getByLabel('New source name').fill('Handbook');
    await page.getByRole('button', { name: 'Create source' }).click();
    await page.getByRole('link', { name: 'Handbook' }).click();
    await page
      .getByLabel('File', { exact: true })
      .setInputFiles({
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('Hello from the console.\n'.repeat(200)),
      });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('cell', { name: 'notes.txt' }).waitFor();
    expect(await page.getByLabel('Upload progress').evaluate((p) => (p as unknown as { value: number }).value)).toBe(1);
    expect(unexpectedErrors()).toEqual([]);
  }, 60_000);

  it('fits a phone-width screen, and every control is labelled and reachable from the keyboard', async () => {
    const job = await create({ task: 'noop', callback_url: receiver.url('/console-phone') });
    await context.close();
    context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await open(stack.settings.BOOTSTRAP_API_KEY!);
    const check = async () => {
      // Wide tables scroll inside their own box; the page itself never scrolls sideways.
      expect(
        await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
      ).toBeLessThanOrEqual(0);
      const unlabelled = await page.locator('input, select, button, a').evaluateAll((els) =>
        els
          .filter((el) => {
            const e = el as unknown as {
              labels?: ArrayLike<unknown> | null;
              textContent: string | null;
              getAttribute(n: string): string | null;
              tabIndex: number;
            };
            return (
              !((e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || (e.textContent ?? '').trim()) ||
              e.tabIndex < 0
            );
          })
          .map((el) => (el as unknown as { outerHTML: string }).outerHTML),
      );
      expect(unlabelled).toEqual([]);
    };
    await page.locator('table.jobs tbody tr').first().waitFor();
    await check();
    await page.goto(`${stack.url}/console/jobs/${job.id}`);
    await page.locator('table.attempts tbody tr').first().waitFor();
    await check();
    await page.goto(`${stack.url}/console/admin`);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await check();
    // The keyboard reaches the first control of the page from the top.
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement?.textContent ?? ""')).toBe('Jobs');
    expect(unexpectedErrors()).toEqual([]);
  }, 60_000);

  it("uses the operator dashboard session instead of a key, and the console's sign-out ends it", async () => {
    // No session yet: the console links to the board's sign-in, which comes back to the console.
    const page = await newPage();
    await page.goto(`${stack.url}/console`);
    await page.getByRole('button', { name: 'Use the dashboard session' }).click();
    await page.getByRole('link', { name: 'Sign in on the dashboard' }).click();
    await page.getByLabel('Operator API key').fill(stack.settings.BOOTSTRAP_API_KEY!);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${stack.url}/console`);
    await page.getByText('role: operator · dashboard session').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'jobsvc_admin')!;
    expect([cookie.path, cookie.httpOnly, cookie.sameSite]).toEqual(['/', true, 'Strict']);
    expect(await page.evaluate<string>('JSON.stringify(sessionStorage)')).not.toContain(stack.settings.BOOTSTRAP_API_KEY);

    // Another tab of the signed-in browser chooses the session and sees the jobs list, live.
    const tab = await newPage();
    await tab.goto(`${stack.url}/console`);
    await tab.getByRole('button', { name: 'Use the dashboard session' }).click();
    await tab.getByRole('heading', { name: 'Jobs' }).waitFor();
    const job = await create({ task: 'noop' });
    await tab.locator(`tr[data-job-id="${job.id}"]`).waitFor({ timeout: 10_000 });
    // A reload keeps the choice for the tab; the job's event stream rides on the session too.
    await tab.goto(`${stack.url}/console/jobs/${job.id}`);
    await tab.locator('.timeline li[data-to="completed"]').waitFor({ timeout: 10_000 });

    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByRole('button', { name: 'Use the dashboard session' }).waitFor();
    // The session itself is over: the first tab's next request is refused and it signs out too.
    await page.getByRole('link', { name: 'Sources' }).click();
    await page.getByText('The dashboard session has ended').waitFor({ timeout: 10_000 });
    expect((await fetch(`${stack.url}/api/jobs`, { headers: { cookie: `jobsvc_admin=${cookie.value}`, 'x-jobs-console': '1' } })).status).toBe(401);
    expect(unexpectedErrors([/status of 401/])).toEqual([]);
  }, 60_000);

  it('signs out at once when its key is revoked', async () => {
    const admin = (await stack.request('GET', '/api/admin/api-keys')).body as { user_id: string }[];
    const created = (await stack.request('POST', '/api/admin/api-keys', { user_id: admin[0]!.user_id, role: 'member' }))
      .body as { id: string; key: string };
    const page = await open(created.key);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect((await stack.request('DELETE', `/api/admin/api-keys/${created.id}`)).status).toBe(200);
    await page.getByText('The API no longer accepts this key').waitFor({ timeout: 10_000 });
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(unexpectedErrors([/status of 401/, /status of 403/])).toEqual([]);
  }, 60_000);

  it("gives a member key no admin view, and another organization's job is not found", async () => {
    const org = (await stack.request('POST', '/api/admin/organizations', { name: 'Other' })).body as { id: string };
    const user = (await stack.request('POST', '/api/admin/users', { organization_id: org.id, name: 'Mia' })).body as {
      id: string;
    };
    const key = (
      (await stack.request('POST', '/api/admin/api-keys', { user_id: user.id, role: 'member' })).body as { key: string }
    ).key;
    const foreign = await create({ task: 'noop' });

    const page = await open(key);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    expect(await page.locator(`tr[data-job-id="${foreign.id}"]`).count()).toBe(0);
    await page.goto(`${stack.url}/console/admin`);
    await page.getByText('The admin view needs an admin or operator key.').waitFor();

    await page.goto(`${stack.url}/console/jobs/${foreign.id}`);
    await page.getByRole('heading', { name: 'Job not found' }).waitFor();
    expect(await page.content()).not.toContain('"task"');
    expect(unexpectedErrors([/status of 403/, /status of 404/])).toEqual([]);
  }, 60_000);
});
