import { Client } from 'pg';
import { Webhook } from 'standardwebhooks';
import { createJobBodySchema } from '../../packages/core/src';
import { callbackDeliveries } from '../../packages/observability/src/metrics';
import { CallbackReceiver, type ReceivedCallback } from '../fakes/callback-receiver';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  stop_reason: string | null;
  organization_id: string;
  completed_at: string | null;
  callback_sent_at: string | null;
  callback_status_code: number | null;
  callback_error: string | null;
  callback_attempts: number;
}

const PUBLIC_URL = 'https://jobs.example.test';
const BODY_KEYS = ['type', 'job_id', 'status', 'stop_reason', 'completed_at', 'metadata', 'result_url', 'timestamp'];
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The in-process worker's `jobsvc_callback_deliveries_total{outcome}` right now. */
const delivered = async (outcome: string) => (await callbackDeliveries.get()).values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;

describe('callbacks (F6) against a real receiver', () => {
  let stack: TestStack;
  let receiver: CallbackReceiver;
  let secret: string;

  beforeAll(async () => {
    receiver = await new CallbackReceiver().start();
    stack = await startStack({
      worker: true,
      env: { PUBLIC_URL, CALLBACK_BACKOFF_MS: '50', CALLBACK_TIMEOUT_MS: '1000', CALLBACK_MAX_ATTEMPTS: '4', SWEEP_INTERVAL_MS: '500' },
    });
    const probe = (await stack.request('POST', '/api/jobs', { task: 'noop' })).body as Job;
    secret = ((await stack.request('GET', `/api/admin/organizations/${probe.organization_id}`)).body as { webhook_secret: string }).webhook_secret;
  });
  afterAll(async () => {
    await stack.stop();
    await receiver.stop();
  });

  const create = async (body: Record<string, unknown>): Promise<Job> => {
    const r = await stack.request('POST', '/api/jobs', body);
    expect(r.status).toBe(201);
    return r.body as Job;
  };
  const getJob = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const deliveries = (path: string, n: number, timeoutMs = 15000) =>
    waitFor(() => (receiver.at(path).length >= n ? receiver.at(path) : null), `${n} request(s) on ${path}`, timeoutMs);
  const jobWhen = (id: string, ok: (j: Job) => boolean, what: string) =>
    waitFor(async () => {
      const j = await getJob(id);
      return ok(j) ? j : null;
    }, what);
  const verify = (req: ReceivedCallback, key = secret) =>
    new Webhook(key).verify(req.body, req.headers as Record<string, string>) as Record<string, unknown>;

  it.each([
    ['completed', { task: 'noop', metadata: { order: 7 } }, 'end_turn'],
    ['failed', { task: 'sleep', input: { ms: 1, fail: true }, metadata: { order: 8 } }, 'error'],
    ['expired', { task: 'sleep', input: { ms: 10000 }, timeout_ms: 100, metadata: { order: 9 } }, 'timeout'],
  ])('delivers one signed callback when a job ends %s', async (status, body, stopReason) => {
    const path = `/hook-${status}`;
    const job = await create({ ...body, callback_url: receiver.url(path) });
    const [req] = await deliveries(path, 1);
    const payload = verify(req!);
    expect(Object.keys(payload)).toEqual(BODY_KEYS);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 1, 'attempt recorded');
    expect(payload).toEqual({
      type: `job.${status}`,
      job_id: job.id,
      status,
      stop_reason: stopReason,
      completed_at: done.completed_at,
      metadata: body.metadata,
      result_url: `${PUBLIC_URL}/api/jobs/${job.id}`,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(req!.headers['webhook-id']).toMatch(/^msg_[0-9a-f-]{36}_\d+$/);
    expect(req!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(req!.headers['webhook-timestamp']) * 1000 - Date.parse(payload['timestamp'] as string))).toBeLessThan(1000);
    expect(done).toMatchObject({ status, callback_status_code: 200, callback_error: null, callback_attempts: 1 });
    expect(done.callback_sent_at).not.toBeNull();
    await settle(500);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('the writer queues a series without a write of its own: its first attempt moves it from pending', async () => {
    // Every state change of the series rows, in order (the writer's enqueue used to mark `queued` first).
    const pg = new Client({ connectionString: stack.database.url });
    await pg.connect();
    try {
      await pg.query(`CREATE TABLE test_series_changes (seq serial, webhook_id text, from_state text, to_state text);
        CREATE FUNCTION test_series_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO test_series_changes (webhook_id, from_state, to_state) VALUES (NEW.webhook_id, OLD.state, NEW.state); RETURN NEW; END $$;
        CREATE TRIGGER test_series_change AFTER UPDATE ON callback_deliveries FOR EACH ROW EXECUTE FUNCTION test_series_change();`);
      const path = '/hook-one-write';
      const job = await create({ task: 'noop', callback_url: receiver.url(path) });
      await deliveries(path, 1);
      await jobWhen(job.id, (j) => j.callback_attempts === 1, 'attempt recorded');
      const row = (await pg.query<{ callback_pending: boolean; callback_webhook_id: string }>('SELECT callback_pending, callback_webhook_id FROM jobs WHERE id = $1', [job.id])).rows[0]!;
      expect(row.callback_pending).toBe(false);
      const changes = await pg.query<{ from_state: string; to_state: string }>('SELECT from_state, to_state FROM test_series_changes WHERE webhook_id = $1 ORDER BY seq', [row.callback_webhook_id]);
      expect(changes.rows).toEqual([{ from_state: 'pending', to_state: 'delivered' }]);
    } finally {
      await pg.query('DROP TRIGGER IF EXISTS test_series_change ON callback_deliveries; DROP FUNCTION IF EXISTS test_series_change(); DROP TABLE IF EXISTS test_series_changes');
      await pg.end();
    }
  });

  it('the worker that finished the job makes the first attempt itself: a series delivered at once leaves no queue entry behind', async () => {
    const path = '/hook-first-inline';
    const job = await create({ task: 'noop', callback_url: receiver.url(path) });
    const [req] = await deliveries(path, 1);
    await jobWhen(job.id, (j) => j.callback_attempts === 1, 'attempt recorded');
    // The series was held in the callbacks queue during the attempt (a crash would have left it to run there),
    // then removed: no entry of the queue ran, so none is `completed`.
    await waitFor(async () => ((await stack.worker!.callbacks.queue.queue.getJobState(String(req!.headers['webhook-id']))) === 'unknown' ? true : null), 'the held entry removed', 5000);
    await settle(300);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('delivers one callback when the API cancels a job', async () => {
    const path = '/hook-cancelled';
    const job = await create({ task: 'sleep', input: { ms: 20000 }, callback_url: receiver.url(path) });
    expect((await stack.request('PATCH', `/api/jobs/${job.id}/cancel`)).status).toBe(200);
    const [req] = await deliveries(path, 1);
    expect(verify(req!)).toMatchObject({ type: 'job.cancelled', job_id: job.id, status: 'cancelled', stop_reason: 'cancelled' });
    await settle(500);
    expect(receiver.at(path)).toHaveLength(1);
  });

  it('retries 500, 500 then 200 under one webhook-id and records each attempt', async () => {
    const path = '/flaky';
    const [retriesBefore, deliveredBefore] = [await delivered('retry'), await delivered('delivered')];
    const job = await create({ task: 'noop', callback_url: receiver.url(path, [{ status: 500, body: 'boom' }, { status: 500 }]) });
    const reqs = await deliveries(path, 3);
    expect(new Set(reqs.map((r) => r.headers['webhook-id'])).size).toBe(1);
    for (const r of reqs) verify(r);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 3, 'three attempts recorded');
    expect(done).toMatchObject({ status: 'completed', callback_status_code: 200, callback_error: null, callback_attempts: 3 });
    await settle(500);
    expect(receiver.at(path)).toHaveLength(3);
    expect(await delivered('retry')).toBeGreaterThanOrEqual(retriesBefore + 2);
    expect(await delivered('delivered')).toBeGreaterThanOrEqual(deliveredBefore + 1);
  });

  it('records the failure and stops after CALLBACK_MAX_ATTEMPTS', async () => {
    const path = '/down';
    const exhaustedBefore = await delivered('exhausted');
    const job = await create({ task: 'noop', callback_url: receiver.url(path, Array(10).fill({ status: 502, body: 'bad gateway\n' })) });
    await deliveries(path, 4);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 4, 'four attempts recorded');
    expect(done).toMatchObject({ status: 'completed', callback_status_code: 502, callback_error: 'HTTP 502: bad gateway', callback_attempts: 4 });
    await settle(800);
    expect(receiver.at(path)).toHaveLength(4);
    expect(await delivered('exhausted')).toBeGreaterThanOrEqual(exhaustedBefore + 1);
  });

  it('stops at once on 410 Gone', async () => {
    const path = '/gone';
    const goneBefore = await delivered('gone');
    const job = await create({ task: 'noop', callback_url: receiver.url(path, [{ status: 410 }]) });
    await deliveries(path, 1);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 1, 'attempt recorded');
    expect(done).toMatchObject({ callback_status_code: 410, callback_error: 'HTTP 410', callback_attempts: 1 });
    await settle(1000);
    expect(receiver.at(path)).toHaveLength(1);
    expect(await delivered('gone')).toBe(goneBefore + 1);
  });

  it('honours Retry-After on 429', async () => {
    const path = '/slow-down';
    await create({ task: 'noop', callback_url: receiver.url(path, [{ status: 429, headers: { 'retry-after': '2' } }]) });
    const [first, second] = await deliveries(path, 2, 20000);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
  });

  it('times out a hanging receiver and retries', async () => {
    const path = '/hang';
    const job = await create({ task: 'noop', callback_url: receiver.url(path, ['hang']) });
    const [first, second] = await deliveries(path, 2, 20000);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 2, 'two attempts recorded');
    expect(done).toMatchObject({ callback_status_code: 200, callback_error: null });
  });

  it('records a timeout with no status code', async () => {
    const path = '/hang-always';
    const job = await create({ task: 'noop', callback_url: receiver.url(path, Array(4).fill('hang')) });
    const done = await jobWhen(job.id, (j) => j.callback_attempts >= 1, 'attempt recorded');
    expect(done).toMatchObject({ callback_status_code: null, callback_error: 'no response within 1000 ms' });
  });

  it('does not follow redirects (a 3xx is a failed attempt)', async () => {
    const metadata = '/redirect-to-metadata';
    const local = '/redirect-to-self';
    const followed = '/followed';
    const a = await create({ task: 'noop', callback_url: receiver.url(metadata, Array(4).fill({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } })) });
    const b = await create({ task: 'noop', callback_url: receiver.url(local, Array(4).fill({ status: 307, headers: { location: receiver.url(followed) } })) });
    const doneA = await jobWhen(a.id, (j) => j.callback_attempts === 4, 'series A exhausted');
    const doneB = await jobWhen(b.id, (j) => j.callback_attempts === 4, 'series B exhausted');
    expect(doneA).toMatchObject({ callback_status_code: 302, callback_error: 'HTTP 302: redirect to http://169.254.169.254/latest/meta-data/ not followed' });
    expect(doneB.callback_status_code).toBe(307);
    expect(receiver.at(followed)).toHaveLength(0);
  });

  it('signs with both secrets during a rotation', async () => {
    const org = ((await stack.request('GET', '/api/jobs?limit=1')).body as Job[])[0]!.organization_id;
    const before = ((await stack.request('GET', `/api/admin/organizations/${org}`)).body as { webhook_secret: string }).webhook_secret;
    const rotated = await stack.request('POST', `/api/admin/organizations/${org}/webhook-secret/rotate`);
    expect(rotated.status).toBe(200);
    const after = (rotated.body as { webhook_secret: string }).webhook_secret;
    expect(after).not.toBe(before);
    secret = after;
    const path = '/rotation';
    await create({ task: 'noop', callback_url: receiver.url(path) });
    const [req] = await deliveries(path, 1);
    const signatures = String(req!.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    expect(verify(req!, after)).toMatchObject({ type: 'job.completed' });
    expect(verify(req!, before)).toMatchObject({ type: 'job.completed' });
    for (const key of [after, before]) {
      const onlyOne = signatures.filter((s) => {
        try {
          new Webhook(key).verify(req!.body, { ...(req!.headers as Record<string, string>), 'webhook-signature': s });
          return true;
        } catch {
          return false;
        }
      });
      expect(onlyOne).toHaveLength(1);
    }
  });

  it('redelivers the last series under the same webhook-id', async () => {
    const path = '/replay';
    const job = await create({ task: 'noop', callback_url: receiver.url(path) });
    const [first] = await deliveries(path, 1);
    await jobWhen(job.id, (j) => j.callback_attempts === 1, 'first attempt recorded');
    const r = await stack.request('POST', `/api/jobs/${job.id}/callback/redeliver`);
    expect(r.status).toBe(202);
    expect((r.body as Job).id).toBe(job.id);
    const [, second] = await deliveries(path, 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    verify(second!);
    const done = await jobWhen(job.id, (j) => j.callback_attempts === 2, 'second attempt recorded');
    expect(done).toMatchObject({ status: 'completed', callback_status_code: 200 });
  });

  it('redelivers at once a series that is waiting out a long Retry-After', async () => {
    const path = '/replay-now';
    const job = await create({ task: 'noop', callback_url: receiver.url(path, [{ status: 503, headers: { 'retry-after': '3600' } }]) });
    const [first] = await deliveries(path, 1);
    await jobWhen(job.id, (j) => j.callback_attempts === 1, 'first attempt recorded');
    expect((await stack.request('POST', `/api/jobs/${job.id}/callback/redeliver`)).status).toBe(202);
    const [, second] = await deliveries(path, 2);
    expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(await jobWhen(job.id, (j) => j.callback_attempts === 2, 'second attempt recorded')).toMatchObject({ callback_status_code: 200, callback_error: null });
  });

  it('answers 409 to redeliver without a callback or before the job is terminal, 404 for unknown jobs', async () => {
    const plain = await create({ task: 'noop' });
    await jobWhen(plain.id, (j) => j.status === 'completed', 'plain job completed');
    const noHook = await stack.request('POST', `/api/jobs/${plain.id}/callback/redeliver`);
    expect(noHook.status).toBe(409);
    expect((noHook.body as { detail: string }).detail).toContain('no callback_url');
    const running = await create({ task: 'sleep', input: { ms: 20000 }, callback_url: receiver.url('/later') });
    const early = await stack.request('POST', `/api/jobs/${running.id}/callback/redeliver`);
    expect(early.status).toBe(409);
    await stack.request('PATCH', `/api/jobs/${running.id}/cancel`);
    const unknown = await stack.request('POST', '/api/jobs/job-00000000-0000-4000-8000-000000000000/callback/redeliver');
    expect(unknown.status).toBe(404);
    const badId = await stack.request('POST', '/api/jobs/nope/callback/redeliver');
    expect(badId.status).toBe(400);
  });

  it('starts a new series after a retry; the old series is still delivered but never touches the row again', async () => {
    const path = '/retried';
    const job = await create({ task: 'sleep', input: { ms: 1, fail: true }, callback_url: receiver.url(path, [{ status: 429, headers: { 'retry-after': '2' } }]) });
    const [first] = await deliveries(path, 1);
    await jobWhen(job.id, (j) => j.callback_attempts === 1, 'first attempt recorded');
    expect((await stack.request('POST', `/api/jobs/${job.id}/retry`)).status).toBe(200);
    const [, second] = await deliveries(path, 2);
    expect(second!.headers['webhook-id']).not.toBe(first!.headers['webhook-id']);
    await jobWhen(job.id, (j) => j.status === 'failed' && j.callback_attempts === 1 && j.callback_status_code === 200, 'new series recorded');
    // The old series' Retry-After passes: its terminal transition happened, so it is delivered too (same id)...
    const [, , third] = await deliveries(path, 3, 20000);
    expect(third!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
    expect(verify(third!)).toMatchObject({ type: 'job.failed', job_id: job.id });
    // ...without writing over the new series' fields.
    await settle(500);
    expect(receiver.at(path)).toHaveLength(3);
    expect(await getJob(job.id)).toMatchObject({ callback_attempts: 1, callback_status_code: 200, callback_error: null });
  });

  it('queues a series the writer never enqueued (sweep), under the recorded webhook-id', async () => {
    const path = '/swept';
    const actor = await stack.api.deps.accounts.bootstrap('test-operator-key-0123456789');
    // A bare store has no transition listener: exactly what a process killed after its commit leaves behind.
    const { JobStore, createDb } = await import('../../packages/db/src');
    const db = createDb(stack.database.url, 2);
    try {
      const jobs = new JobStore(db);
      const { wait_ms: _w, ...body } = createJobBodySchema.parse({ task: 'noop', callback_url: receiver.url(path) });
      const { job } = await jobs.create(actor, body);
      await jobs.transition(job.id, 'running', { from: ['created'] });
      const done = (await jobs.transition(job.id, 'completed', { from: ['running'], result: {} }))!;
      expect(done.callback_pending).toBe(true);
      const [req] = await deliveries(path, 1, 20000);
      expect(req!.headers['webhook-id']).toBe(done.callback_webhook_id);
      expect(verify(req!)).toMatchObject({ job_id: job.id, status: 'completed' });
      // The attempt is recorded just after the receiver answered.
      const row = await waitFor(async () => {
        const r = await jobs.findById(job.id);
        return r && r.callback_attempts === 1 ? r : null;
      }, 'attempt recorded');
      expect(row).toMatchObject({ callback_pending: false, callback_status_code: 200 });
      await settle(1500);
      expect(receiver.at(path)).toHaveLength(1);
    } finally {
      await db.$disconnect();
    }
  });
});
