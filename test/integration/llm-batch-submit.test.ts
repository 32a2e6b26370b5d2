import type { TaskContext } from '../../packages/tasks/src/task';
import { BatchStore } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { createAnthropicClient, llmBatchTask } from '../../packages/tasks/src';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

type Input = { requests: { custom_id: string; params: Record<string, unknown> }[] };
const request = (customId: string) => ({ custom_id: customId, params: { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } });
const CREATE = 'POST /v1/messages/batches';
const CANCEL = 'POST /v1/messages/batches/{id}/cancel';

/**
 * The llm.batch task's submission against the fake provider and a real database (issue 10 item 5): the
 * paths the e2e crash test does not reach (a superseded attempt that is still alive, ambiguity, no orphan).
 */
describe('llm.batch submission after an earlier attempt', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let batches: BatchStore;
  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack({ env: { ENABLE_BATCH_JOB_POLLING: 'true' } }); // no worker: the tests run the task
    batches = new BatchStore(stack.api.deps.db);
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  /** A batch Job with its items, as the API leaves it (no worker takes it here). */
  const newBatch = async (ids: string[]): Promise<{ jobId: string; input: Input }> => {
    const input = { requests: ids.map(request) };
    const r = await stack.request('POST', '/api/batches', input);
    expect(r.status).toBe(201);
    return { jobId: (r.body as { id: string }).id, input };
  };
  const run = (jobId: string, input: Input, attempt: number) => {
    const ctx: TaskContext<Input> = {
      jobId,
      // llm.batch reads its items by job id; the organization is not consulted.
      organizationId: 'org-00000000-0000-4000-8000-000000000000',
      attempt,
      input,
      signal: new AbortController().signal,
      reportProgress: async () => undefined,
      recordTtft: async () => undefined,
      recordResponseDuration: async () => undefined,
      logger: createLogger({ level: 'error', service: 'test' }),
      clients: { llmBatches: batches, anthropic: createAnthropicClient({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'k' }, { maxRetries: 0 })! },
    };
    return llmBatchTask.run(ctx as Parameters<typeof llmBatchTask.run>[0]);
  };

  it('an attempt presumed dead whose create lands after the next attempt submitted cancels its batch; the Job keeps one', async () => {
    const { jobId, input } = await newBatch(['late-1', 'late-2']);
    const creates = fake.hitCount(CREATE);
    fake.delay(5000, '/v1/messages/batches');
    const first = run(jobId, input, 1);
    const firstDone = first.then(
      () => null,
      (err: unknown) => err as Error,
    );
    await waitFor(() => fake.hitCount(CREATE) === creates + 1, 'the first create to reach the provider');
    fake.delay(0, '/v1/messages/batches');
    // The next attempt: the first one's batch does not exist yet, so it submits its own.
    expect(await run(jobId, input, 2)).toMatchObject({ handOff: { owner: 'llm-batch-poller' } });
    const owned = (await batches.get(jobId))!.provider_batch_id!;
    const err = await firstDone;
    expect(err?.message).toMatch(/another attempt took over/);
    expect(fake.hitCount(CREATE)).toBe(creates + 2);
    const late = [...fake.batches.values()].filter((b) => b.requests[0]!.custom_id === 'late-1' && b.batch.id !== owned);
    expect(late).toHaveLength(1);
    expect(late[0]!.batch.cancel_initiated_at).not.toBeNull();
    expect(fake.batches.get(owned)!.batch.cancel_initiated_at).toBeNull();
    expect((await batches.get(jobId))!.provider_batch_id).toBe(owned);
  }, 60_000);

  it('an earlier attempt that never reached the provider: the next one submits once', async () => {
    const { jobId, input } = await newBatch(['none-1']);
    await batches.recordIntent(jobId, 'crashed-before-the-call');
    const creates = fake.hitCount(CREATE);
    await run(jobId, input, 2);
    expect(fake.hitCount(CREATE)).toBe(creates + 1);
    expect((await batches.get(jobId))!.provider_batch_id).toMatch(/^msgbatch_/);
  });

  it('two unowned batches that could be the orphan: fails permanently instead of guessing or submitting a third', async () => {
    const { jobId, input } = await newBatch(['amb-1', 'amb-2', 'amb-3', 'amb-4', 'amb-5', 'amb-6', 'amb-7']);
    await batches.recordIntent(jobId, 'crashed-after-the-call');
    const a = fake.createBatch(input.requests as never).id;
    const b = fake.createBatch(input.requests as never).id;
    const creates = fake.hitCount(CREATE);
    const cancels = fake.hitCount(CANCEL);
    const err = await run(jobId, input, 2).then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('batch_submission_ambiguous');
    expect(err?.message).toContain(a);
    expect(err?.message).toContain(b);
    expect(fake.hitCount(CREATE)).toBe(creates);
    expect(fake.hitCount(CANCEL)).toBe(cancels);
    expect((await batches.get(jobId))!.provider_batch_id).toBeNull();
  });
});
