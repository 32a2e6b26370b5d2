import { createApiProcess } from '../../apps/api/src/api-process';
import { expireOverdueLlmBatches } from '../../apps/worker/src/batches/expire-llm-batches';
import { pollRunningLlmBatches } from '../../apps/worker/src/batches/poll-llm-batches';
import { newId } from '../../packages/core/src';
import { BatchStore } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { createAnthropicClient } from '../../packages/tasks/src';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  stop_reason: string | null;
  result: unknown;
}
interface Item {
  custom_id: string;
  status: string;
  error: unknown;
}

const CANCEL = 'POST /v1/messages/batches/{id}/cancel';

const request = (customId: string) => ({ custom_id: customId, params: { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } });

/** Moves a batch (its row and its Job's) back in time, as if it had been submitted `hours` ago. */
async function age(stack: TestStack, jobId: string, hours: number): Promise<void> {
  const db = stack.api.deps.db;
  await db.$executeRawUnsafe(
    `UPDATE llm_batch_jobs SET created_at = now() - make_interval(hours => $2::int), submitted_at = now() - make_interval(hours => $2::int) WHERE job_id = $1`,
    jobId,
    hours,
  );
  await db.$executeRawUnsafe(`UPDATE jobs SET created_at = now() - make_interval(hours => $2::int) WHERE id = $1`, jobId, hours);
}

/** Every batch Job ends (issue 10 item 4): polling off refuses new batches; batches the provider never ends expire. */
describe('batches that would never end', () => {
  describe('with ENABLE_BATCH_JOB_POLLING=false', () => {
    let stack: TestStack;
    beforeAll(async () => {
      stack = await startStack({ worker: true, env: { ENABLE_BATCH_JOB_POLLING: 'false', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', ANTHROPIC_API_KEY: 'k' } });
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('refuses POST /api/batches with 503 naming the setting, and writes nothing', async () => {
      const r = await stack.request('POST', '/api/batches', { requests: [request('a')] });
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      const problem = r.body as { type: string; title: string; detail: string };
      expect(problem.detail).toMatch(/ENABLE_BATCH_JOB_POLLING/);
      // A configuration state, not an outage: its own problem type, and no Retry-After inviting a quick retry.
      expect(problem.type).toMatch(/\/llm-batches-disabled$/);
      expect(problem.detail).toMatch(/configuration/);
      expect(problem.detail).toMatch(/not a transient outage/);
      expect(r.headers.get('retry-after')).toBeNull();
      const rows = await stack.api.deps.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM jobs WHERE job_type = 'batch'`);
      expect(rows[0]!.n).toBe(0);
      // A bad body is still the client's mistake first.
      expect((await stack.request('POST', '/api/batches', { requests: [] })).status).toBe(400);
    });

    it('still ends a batch submitted before polling was switched off, once past the 24 h window', async () => {
      const db = stack.api.deps.db;
      const jobId = newId('job');
      const [owner] = await db.$queryRawUnsafe<{ organization_id: string; user_id: string }[]>('SELECT organization_id, user_id FROM api_keys LIMIT 1');
      // As the llm.batch task leaves it: running, handed off to the poller, submitted.
      await db.$executeRawUnsafe(
        `INSERT INTO jobs (id, organization_id, user_id, job_type, task, status, attempts, started_at, completion_owner, event_seq, callback_url)
         VALUES ($1, $2, $3, 'batch', 'llm.batch', 'running', 1, now(), 'llm-batch-poller', 3, 'http://127.0.0.1:9/hook')`,
        jobId,
        owner!.organization_id,
        owner!.user_id,
      );
      await new BatchStore(db).prepare(jobId, [request('p-1'), request('p-2')]);
      await new BatchStore(db).recordIntent(jobId, 'intent');
      await new BatchStore(db).markSubmitted(jobId, { id: 'msgbatch_0123456789abcdef', processing_status: 'in_progress', request_counts: {} }, 'intent');
      await age(stack, jobId, 26);
      await stack.worker!.reconciler.sweepOnce();
      const job = (await stack.request('GET', `/api/jobs/${jobId}`)).body as Job;
      expect(job).toMatchObject({ status: 'expired', stop_reason: 'expired', result: { total: 2, counts: { succeeded: 0, errored: 0, canceled: 0, expired: 2 } } });
      const items = (await stack.request('GET', `/api/batches/${jobId}/items`)).body as Item[];
      expect(items.map((i) => i.status)).toEqual(['expired', 'expired']);
      const cb = await db.$queryRawUnsafe<{ callback_webhook_id: string | null; callback_pending: boolean }[]>('SELECT callback_webhook_id, callback_pending FROM jobs WHERE id = $1', jobId);
      expect(cb[0]!.callback_webhook_id).toMatch(/^msg_/);
      expect((await new BatchStore(db).get(jobId))!.finalized_at).not.toBeNull();
    });
  });

  describe('with polling on, against a provider that never ends the batch', () => {
    let stack: TestStack;
    let fake: FakeAnthropic;
    let batches: BatchStore;
    beforeAll(async () => {
      fake = new FakeAnthropic();
      await fake.start();
      // Polling on, but the scheduled poll only runs once at start: the test drives the sweeps itself.
      stack = await startStack({ worker: true, env: { ENABLE_BATCH_JOB_POLLING: 'true', POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: '86400', ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'k' } });
      batches = new BatchStore(stack.api.deps.db);
    });
    afterAll(async () => {
      await stack.stop();
      await fake.stop();
    });

    const submit = async (ids: string[]) => {
      const r = await stack.request('POST', '/api/batches', { requests: ids.map(request), callback_url: 'http://127.0.0.1:9/hook' });
      expect(r.status).toBe(201);
      const job = r.body as Job;
      await waitFor(async () => (await batches.get(job.id))?.provider_batch_id, 'batch submitted', 30_000);
      await waitFor(async () => ((await stack.request('GET', `/api/jobs/${job.id}`)).body as Job).status === 'running', 'handed off');
      return job.id;
    };

    it('replays a batch created before polling was switched off (200; 409 for another body), refusing only new ones', async () => {
      const body = { requests: [request('r-1')], idempotency_key: 'replay-after-switch-off' };
      const first = await stack.request('POST', '/api/batches', body);
      expect(first.status).toBe(201);
      const original = first.body as Job;
      // The same database and queue, served by an API restarted with polling off.
      const off = createApiProcess({ ...stack.settings, ENABLE_BATCH_JOB_POLLING: false });
      try {
        const url = await off.listen(0, '127.0.0.1');
        const post = async (b: unknown, headers: Record<string, string> = {}) => {
          const res = await fetch(`${url}/api/batches`, {
            method: 'POST',
            headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json', ...headers },
            body: JSON.stringify(b),
          });
          return { status: res.status, body: (await res.json()) as Job & { type?: string }, location: res.headers.get('location') };
        };
        const replay = await post(body);
        expect(replay.status).toBe(200);
        expect(replay.body.id).toBe(original.id);
        expect(replay.location).toBe(`/api/jobs/${original.id}`);
        // The key given as the header replays the same Job.
        expect((await post({ requests: body.requests }, { 'idempotency-key': body.idempotency_key })).body.id).toBe(original.id);
        expect((await post({ ...body, requests: [request('r-2')] })).status).toBe(409);
        const fresh = await post({ ...body, idempotency_key: 'a-new-key' });
        expect(fresh.status).toBe(503);
        expect(fresh.body.type).toMatch(/\/llm-batches-disabled$/);
        expect((await post({ requests: [request('n-1')] })).status).toBe(503);
        const rows = await stack.api.deps.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = 'a-new-key' OR input::text LIKE '%n-1%'`);
        expect(rows[0]!.n).toBe(0);
      } finally {
        await off.stop();
      }
    });

    it('ends batches past 24 h + margin (and past the lookback) as expired, items and callback included; younger ones run on', async () => {
      const stale = await submit(['s-1', 's-2', 's-3']);
      const pastLookback = await submit(['l-1']);
      const young = await submit(['y-1']);
      await age(stack, stale, 26);
      await age(stack, pastLookback, 24 * 7 * 3);
      await age(stack, young, 23);
      const cancelsBefore = fake.hitCount(CANCEL);
      const report = await stack.worker!.reconciler.sweepOnce();
      expect(report.extra['llm_batch_expiry']).toBe(2);
      // Told to the provider too, so a batch it never ended stops running (and costing) there.
      expect(fake.hitCount(CANCEL) - cancelsBefore).toBe(2);
      const providerBatch = async (id: string) => fake.batches.get((await batches.get(id))!.provider_batch_id!)!.batch;
      expect((await providerBatch(stale)).cancel_initiated_at).not.toBeNull();
      expect((await providerBatch(pastLookback)).cancel_initiated_at).not.toBeNull();
      expect((await providerBatch(young)).cancel_initiated_at).toBeNull();

      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      expect(await get(stale)).toMatchObject({ status: 'expired', stop_reason: 'expired', result: { total: 3, counts: { succeeded: 0, errored: 0, canceled: 0, expired: 3 } } });
      expect(await get(pastLookback)).toMatchObject({ status: 'expired', result: { total: 1, counts: { expired: 1 } } });
      expect((await get(young)).status).toBe('running');
      const items = (await stack.request('GET', `/api/batches/${stale}/items`)).body as Item[];
      expect(items.map((i) => i.status)).toEqual(['expired', 'expired', 'expired']);
      expect(items[0]!.error).toMatchObject({ type: 'expired' });
      const cb = await stack.api.deps.db.$queryRawUnsafe<{ id: string; callback_webhook_id: string | null }[]>('SELECT id, callback_webhook_id FROM jobs WHERE id = ANY($1::text[])', [stale, pastLookback]);
      for (const row of cb) expect(row.callback_webhook_id).toMatch(/^msg_/);
      // Ended once: the next sweep has nothing to do (and cancels nothing again).
      expect((await stack.worker!.reconciler.sweepOnce()).extra['llm_batch_expiry']).toBe(0);
      expect(fake.hitCount(CANCEL) - cancelsBefore).toBe(2);
    });

    it("keeps a Job's counts and its items in agreement when the expiry ends the batch while the poller ingests its results", async () => {
      const id = await submit(['x-1', 'x-2']);
      await age(stack, id, 26);
      fake.endBatch((await batches.get(id))!.provider_batch_id!, 'succeeded');
      const logger = createLogger({ level: 'error', service: 'test' });
      const jobs = stack.api.deps.jobs;
      const anthropic = createAnthropicClient({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'k' }, { maxRetries: 0 })!;
      // The race made deterministic: the poller has seen the batch ended, and the expiry sweep ends it just
      // before the poller streams its results.
      const results = anthropic.messages.batches.results.bind(anthropic.messages.batches);
      anthropic.messages.batches.results = (async (...args: Parameters<typeof results>) => {
        expect(await expireOverdueLlmBatches({ batches, jobs, logger, workerId: null })).toBe(1);
        return results(...args);
      }) as unknown as typeof results;
      const summary = await pollRunningLlmBatches({ batches, jobs, anthropic, logger }, { lookbackWeeks: 4, concurrency: 2, instanceId: 'race-test' }, new AbortController().signal);
      expect(summary.poll_errors).toBe(0);

      const job = (await stack.request('GET', `/api/jobs/${id}`)).body as Job & { result: { counts: Record<string, number> } };
      const items = (await stack.request('GET', `/api/batches/${id}/items`)).body as Item[];
      const counted: Record<string, number> = { succeeded: 0, errored: 0, canceled: 0, expired: 0 };
      for (const i of items) counted[i.status] = (counted[i.status] ?? 0) + 1;
      expect(job.status).toBe('expired');
      expect(job.result.counts).toEqual(counted);
      expect(items.map((i) => i.status)).toEqual(['expired', 'expired']);
    });

    it('expires the batch even when the provider refuses the cancel', async () => {
      const stale = await submit(['c-1']);
      await age(stack, stale, 26);
      fake.fail({ path: '/cancel', status: 500 });
      try {
        const cancelsBefore = fake.hitCount(CANCEL);
        expect((await stack.worker!.reconciler.sweepOnce()).extra['llm_batch_expiry']).toBe(1);
        // One try (no retries): a best-effort cancel must not hold the sweep.
        expect(fake.hitCount(CANCEL)).toBe(cancelsBefore + 1);
      } finally {
        fake.clearFailures();
      }
      expect(((await stack.request('GET', `/api/jobs/${stale}`)).body as Job).status).toBe('expired');
      expect((await batches.get(stale))!.finalized_at).not.toBeNull();
    });
  });
});
