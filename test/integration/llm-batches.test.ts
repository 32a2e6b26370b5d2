import type Anthropic from '@anthropic-ai/sdk';
import { pollRunningLlmBatches, type PollSummary } from '../../apps/worker/src/batches/poll-llm-batches';
import { BatchStore } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { createAnthropicClient } from '../../packages/tasks/src';
import { FakeAnthropic, type Outcome } from '../fakes/anthropic-server';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  job_type: string;
  task: string;
  status: string;
  result: unknown;
  stop_reason: string | null;
  error: { code: string } | null;
}
interface Item {
  id: string;
  custom_id: string;
  status: string;
  result: { type: string; message?: { content: { text: string }[] } } | null;
  error: unknown;
}

/** The poller's schedule registered (else POST /api/batches is a 503) but not due again during a test. */
const POLL_BY_HAND = { ENABLE_BATCH_JOB_POLLING: 'true', POLL_RUNNING_LLM_BATCHES_INTERVAL_SECONDS: '86400' };
const OUTCOMES: Outcome[] = ['succeeded', 'errored', 'canceled', 'expired'];
const request = (customId: string, text = 'hello') => ({ custom_id: customId, params: { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: text }] } });

describe('LLM batches: API, llm.batch task and poll_running_llm_batches against the fake Anthropic API', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let anthropic: Anthropic;
  let batches: BatchStore;
  const logger = createLogger({ level: 'error', service: 'test' });

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    // Polling on (batches are refused without it), but the scheduled poll runs only once, at start: the tests poll.
    stack = await startStack({ worker: true, env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key', ...POLL_BY_HAND } });
    // No SDK retries here: a failure the fake injects must reach the poller as it is.
    anthropic = createAnthropicClient({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key' }, { maxRetries: 0 })!;
    batches = new BatchStore(stack.api.deps.db);
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  const poll = (opts: { batchSize?: number; lookbackWeeks?: number } = {}): Promise<PollSummary> =>
    pollRunningLlmBatches(
      { batches, jobs: stack.api.deps.jobs, anthropic, logger },
      { lookbackWeeks: opts.lookbackWeeks ?? 2, ...(opts.batchSize ? { batchSize: opts.batchSize } : {}), concurrency: 10, instanceId: 'test-poller' },
      new AbortController().signal,
    );
  const getJob = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  /** Creates a batch through the API and waits until the worker has submitted it to the provider. */
  const submit = async (requests: ReturnType<typeof request>[], extra: Record<string, unknown> = {}) => {
    const r = await stack.request('POST', '/api/batches', { requests, ...extra });
    expect(r.status).toBe(201);
    const job = r.body as Job;
    const row = await waitFor(async () => {
      const b = await batches.get(job.id);
      return b?.provider_batch_id ? b : null;
    }, 'batch submitted', 30_000);
    await waitFor(async () => (await getJob(job.id)).status === 'running', 'job running after hand-off');
    return { job, providerId: row.provider_batch_id! };
  };
  const allItems = async (jobId: string): Promise<Item[]> => {
    const out: Item[] = [];
    let after = '';
    for (;;) {
      const r = await stack.request('GET', `/api/batches/${jobId}/items?limit=400${after ? `&after=${after}` : ''}`);
      expect(r.status).toBe(200);
      const page = r.body as Item[];
      out.push(...page);
      if (!r.headers.get('link')) return out;
      after = page[page.length - 1]!.id;
    }
  };

  it('runs a batch of 1,000 requests with mixed outcomes to completed, every item and count right', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => request(`${OUTCOMES[i % 4]}-${i}`, `item ${i}`));
    const { job, providerId } = await submit(requests, { callback_url: 'http://127.0.0.1:9/hook', metadata: { purpose: 'mixed' } });
    expect(job).toMatchObject({ job_type: 'batch', task: 'llm.batch' });
    const submitted = await allItems(job.id);
    expect(submitted).toHaveLength(1000);
    expect(new Set(submitted.map((i) => i.status))).toEqual(new Set(['submitted']));
    expect(submitted.map((i) => i.custom_id)).toEqual(requests.map((r) => r.custom_id)); // request order
    expect(submitted[0]!.id).toMatch(/^batch_item-[0-9a-f-]{36}$/);

    const first = await poll();
    expect(first).toMatchObject({ batches_polled: 1, batches_ended: 0, poll_errors: 0 });
    expect((await getJob(job.id)).status).toBe('running');

    fake.endBatch(providerId); // outcome from each custom_id's prefix
    const second = await poll();
    expect(second).toMatchObject({ batches_polled: 1, batches_ended: 1, items_updated: 1000, jobs_finished: 1, poll_errors: 0 });

    const done = await getJob(job.id);
    expect(done.status).toBe('completed');
    expect(done.stop_reason).toBe('end_turn');
    expect(done.result).toEqual({ total: 1000, counts: { succeeded: 250, errored: 250, canceled: 250, expired: 250 } });
    const items = await allItems(job.id);
    for (const item of items) {
      const expected = item.custom_id.split('-')[0];
      expect(item.status).toBe(expected);
      expect(item.result?.type).toBe(expected);
      if (expected === 'succeeded') expect(item.result?.message?.content[0]?.text).toBe(`Echo: item ${item.custom_id.split('-')[1]}`);
      if (expected === 'errored') expect(item.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      else expect(item.error).toBeNull();
    }
    const row = await batches.get(job.id);
    expect(row).toMatchObject({ processing_status: 'ended', request_counts: { succeeded: 250, errored: 250, canceled: 250, expired: 250, processing: 0 } });
    expect(row!.finalized_at).not.toBeNull();
    // The terminal transition went through JobStore.transition: the callback is due with its webhook id.
    const cb = await stack.api.deps.db.$queryRawUnsafe<{ callback_webhook_id: string | null }[]>('SELECT callback_webhook_id FROM jobs WHERE id = $1', job.id);
    expect(cb[0]!.callback_webhook_id).toMatch(/^msg_/);
    // Finalized: the next cycle leaves it alone.
    expect((await poll()).batches_polled).toBe(0);
  }, 120_000);

  it.each([
    ['canceled', 'cancelled', 'cancelled'],
    ['expired', 'expired', 'expired'],
    ['errored', 'failed', 'error'],
  ] as const)('ends a batch whose items all %s as %s', async (outcome, status, stopReason) => {
    const { job, providerId } = await submit([request('a'), request('b'), request('c')]);
    fake.endBatch(providerId, outcome);
    await poll();
    const done = await getJob(job.id);
    expect(done.status).toBe(status);
    expect(done.stop_reason).toBe(stopReason);
    if (status === 'failed') expect(done.error).toMatchObject({ code: 'batch_failed' });
    expect((await allItems(job.id)).map((i) => i.status)).toEqual([outcome, outcome, outcome]);
    // API.md: the item counts are the result whatever the terminal status.
    const counts = { succeeded: 0, errored: 0, canceled: 0, expired: 0, [outcome]: 3 };
    expect(done.result).toEqual({ total: 3, counts });
  });

  it('leaves a batch running when its poll fails, and finishes it on the next cycle', async () => {
    const { job, providerId } = await submit([request('ok-1'), request('ok-2')]);
    fake.endBatch(providerId, 'succeeded');
    fake.fail({ path: providerId, status: 500 });
    const failed = await poll();
    expect(failed.poll_errors).toBe(1);
    expect((await getJob(job.id)).status).toBe('running');
    const row = await batches.get(job.id);
    expect(row!.last_poll_error).toMatch(/500/);
    expect(row!.processing_status).toBe('in_progress');
    expect(row!.finalized_at).toBeNull();
    fake.clearFailures();
    const ok = await poll();
    expect(ok).toMatchObject({ poll_errors: 0, jobs_finished: 1 });
    expect(await getJob(job.id)).toMatchObject({ status: 'completed', result: { total: 2, counts: { succeeded: 2, errored: 0, canceled: 0, expired: 0 } } });
  });

  it('does not poll batches created before the lookback', async () => {
    const { job, providerId } = await submit([request('old-1')]);
    await stack.api.deps.db.$executeRawUnsafe(`UPDATE llm_batch_jobs SET created_at = now() - interval '15 days' WHERE job_id = $1`, job.id);
    const before = fake.hitCount('GET /v1/messages/batches/{id}');
    const s = await poll({ lookbackWeeks: 2 });
    expect(s.batches_polled).toBe(0);
    expect(fake.hitCount('GET /v1/messages/batches/{id}')).toBe(before);
    expect((await batches.get(job.id))!.last_polled_at).toBeNull();
    // A longer lookback reaches it.
    fake.endBatch(providerId, 'succeeded');
    expect((await poll({ lookbackWeeks: 3 })).jobs_finished).toBe(1);
  });

  it('polls at most BATCH_JOB_POLLING_BATCH_SIZE batches per cycle, least recently polled first', async () => {
    const made: Awaited<ReturnType<typeof submit>>[] = [];
    for (let i = 0; i < 5; i++) made.push(await submit([request(`s-${i}`)]));
    const polledAt = async () => Promise.all(made.map(async (m) => (await batches.get(m.job.id))!.last_polled_at?.getTime() ?? null));
    expect((await poll({ batchSize: 2 })).batches_polled).toBe(2);
    expect((await polledAt()).filter((t) => t !== null)).toHaveLength(2);
    expect((await poll({ batchSize: 2 })).batches_polled).toBe(2);
    expect((await polledAt()).filter((t) => t !== null)).toHaveLength(4);
    expect((await poll({ batchSize: 2 })).batches_polled).toBe(2);
    expect((await polledAt()).every((t) => t !== null)).toBe(true);
    for (const m of made) fake.endBatch(m.providerId, 'succeeded');
    await poll();
  });

  it('cancels the provider batch when its Job is cancelled, then finalizes it', async () => {
    const { job, providerId } = await submit([request('c-1'), request('c-2')]);
    const cancelled = await stack.request('PATCH', `/api/jobs/${job.id}/cancel`);
    expect(cancelled.status).toBe(200);
    const s = await poll();
    expect(s.cancels_requested).toBe(1);
    expect(fake.batches.get(providerId)!.batch.processing_status).toBe('ended');
    await poll();
    const row = await batches.get(job.id);
    expect(row!.cancel_requested_at).not.toBeNull();
    expect(row!.finalized_at).not.toBeNull();
    expect((await allItems(job.id)).map((i) => i.status)).toEqual(['canceled', 'canceled']);
    // Cancelled by its client before the provider ended it: the counts are filled in once the items are known.
    expect(await getJob(job.id)).toMatchObject({ status: 'cancelled', result: { total: 2, counts: { succeeded: 0, errored: 0, canceled: 2, expired: 0 } } });
  });

  it('accepts a batch body over MAX_BODY_BYTES (batches have their own limit)', async () => {
    const long = 'x'.repeat(400);
    const requests = Array.from({ length: 4000 }, (_, i) => request(`big-${i}`, long));
    expect(Buffer.byteLength(JSON.stringify({ requests }))).toBeGreaterThan(stack.settings.MAX_BODY_BYTES);
    const { job, providerId } = await submit(requests);
    expect(fake.batches.get(providerId)!.requests).toHaveLength(4000);
    fake.endBatch(providerId, 'succeeded');
    await poll();
    expect(await getJob(job.id)).toMatchObject({ status: 'completed', result: { total: 4000 } });
    const big = await stack.request('POST', '/api/jobs', { task: 'noop', metadata: { pad: 'y'.repeat(16) }, input: { blob: 'z'.repeat(stack.settings.MAX_BODY_BYTES) } });
    expect(big.status).toBe(413);
  });

  it('rejects bad batch bodies naming the field', async () => {
    const dup = await stack.request('POST', '/api/batches', { requests: [request('x'), request('x')] });
    expect(dup.status).toBe(400);
    expect((dup.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain('requests.1.custom_id');
    const empty = await stack.request('POST', '/api/batches', { requests: [] });
    expect(empty.status).toBe(400);
    expect((empty.body as { errors: { path: string }[] }).errors[0]!.path).toBe('requests');
    const tooMany = await stack.request('POST', '/api/batches', { requests: Array.from({ length: 10_001 }, (_, i) => ({ custom_id: `r${i}`, params: { model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] } })) });
    expect(tooMany.status).toBe(400);
    expect((tooMany.body as { errors: { path: string }[] }).errors[0]!.path).toBe('requests');
    const badId = await stack.request('POST', '/api/batches', { requests: [request('has space')] });
    expect((badId.body as { errors: { path: string }[] }).errors[0]!.path).toBe('requests.0.custom_id');
    const unknown = await stack.request('POST', '/api/batches', { requests: [request('a')], priority: 3 });
    expect(unknown.status).toBe(400);
    const items = await stack.request('GET', '/api/batches/not-an-id/items');
    expect(items.status).toBe(400);
  });

  it('takes an idempotency_key as job creation does: same body 200 with the original Job, another body 409, header and body differ 400', async () => {
    const body = { requests: [request('idem-1'), request('idem-2')], metadata: { k: 1 } };
    const first = await stack.request('POST', '/api/batches', { ...body, idempotency_key: 'batch-key-1' });
    expect(first.status).toBe(201);
    const id = (first.body as Job).id;
    const again = await stack.request('POST', '/api/batches', { ...body, idempotency_key: 'batch-key-1' });
    expect(again.status).toBe(200);
    expect((again.body as Job).id).toBe(id);
    const byHeader = await stack.request('POST', '/api/batches', body, undefined, { 'Idempotency-Key': 'batch-key-1' });
    expect(byHeader.status).toBe(200);
    expect((byHeader.body as Job).id).toBe(id);
    const other = await stack.request('POST', '/api/batches', { ...body, requests: [request('idem-3')], idempotency_key: 'batch-key-1' });
    expect(other.status).toBe(409);
    const differ = await stack.request('POST', '/api/batches', { ...body, idempotency_key: 'batch-key-2' }, undefined, { 'Idempotency-Key': 'batch-key-3' });
    expect(differ.status).toBe(400);
    expect((differ.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['idempotency_key']);
    const rows = await stack.api.deps.db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM jobs WHERE job_type = 'batch' AND idempotency_key LIKE 'batch-key-%'`);
    expect(rows[0]!.n).toBe(1);
    // One Job, one provider batch.
    const row = await waitFor(async () => (await batches.get(id))?.provider_batch_id, 'batch submitted', 30_000);
    expect([...fake.batches.values()].filter((b) => b.requests.some((r) => r.custom_id === 'idem-1'))).toHaveLength(1);
    fake.endBatch(row, 'succeeded');
    await waitFor(async () => (await getJob(id)).status === 'running', 'handed off');
    await poll();
    expect((await getJob(id)).status).toBe('completed');
  });
});

describe('the reconciler and a handed-off batch job', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack({ worker: true, env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key', ...POLL_BY_HAND } });
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('leaves a running batch job whose BullMQ job has completed to the poller', async () => {
    const r = await stack.request('POST', '/api/batches', { requests: [request('r-1')] });
    const id = (r.body as Job).id;
    const owner = await waitFor(async () => {
      const rows = await stack.api.deps.db.$queryRawUnsafe<{ status: string; completion_owner: string | null }[]>('SELECT status, completion_owner FROM jobs WHERE id = $1', id);
      return rows[0]?.completion_owner ? rows[0] : null;
    }, 'hand-off recorded');
    expect(owner).toEqual({ status: 'running', completion_owner: 'llm-batch-poller' });
    // Old enough for the reconciler to look at, and no live queue entry: still not its business.
    await stack.api.deps.db.$executeRawUnsafe(`UPDATE jobs SET updated_at = now() - interval '10 minutes' WHERE id = $1`, id);
    const report = await stack.worker!.reconciler.sweepOnce();
    expect(report.recovered).toBe(0);
    const after = (await stack.request('GET', `/api/jobs/${id}`)).body as Job & { attempts: number };
    expect(after).toMatchObject({ status: 'running', attempts: 1 });
  });
});
