import { pollRunningLlmBatches } from '../../apps/worker/src/batches/poll-llm-batches';
import { BatchStore } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { createAnthropicClient } from '../../packages/tasks/src';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { startStack, type TestStack } from '../support/stack';
import { stackWorkers } from '../support/stack-workers';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
  result: unknown;
}

const request = (customId: string) => ({
  custom_id: customId,
  params: { model: 'claude-test', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
});
const CREATE = 'POST /v1/messages/batches';
const CANCEL = 'POST /v1/messages/batches/{id}/cancel';

/** Issue 10 item 5: a worker killed between the provider's batch create and its write must not cost a second batch. */
describe('a worker killed between the provider batch create and its write (real worker processes)', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let batches: BatchStore;
  const workers = stackWorkers(
    () => stack,
    () => ({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key' }),
  );
  const worker = (name: string) => workers.start(name);

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    // The API only (batches need polling on to be accepted); the workers are separate processes.
    stack = await startStack({ env: { ENABLE_BATCH_JOB_POLLING: 'true' } });
    batches = new BatchStore(stack.api.deps.db);
  });
  afterAll(async () => {
    await workers.killAll();
    await stack.stop();
    await fake.stop();
  });

  it('kill -9 after the provider created the batch: the next attempt adopts it, one provider batch in all, owned by the Job', async () => {
    fake.holdCreateResponses(true);
    const a = await worker('worker-a');
    const created = await stack.request('POST', '/api/batches', {
      requests: [request('x-1'), request('x-2'), request('x-3')],
    });
    expect(created.status).toBe(201);
    const jobId = (created.body as Job).id;
    await waitFor(() => fake.hitCount(CREATE) === 1, 'the provider to receive the create', 30_000);
    expect(await a.kill('SIGKILL')).toBeNull();
    fake.holdCreateResponses(false);
    const orphan = [...fake.batches.keys()];
    expect(orphan).toHaveLength(1);
    expect((await batches.get(jobId))!.provider_batch_id).toBeNull(); // the crash came before our write

    const b = await worker('worker-b');
    const row = await waitFor(
      async () => {
        const r = await batches.get(jobId);
        return r?.provider_batch_id ? r : null;
      },
      'the next attempt to settle the submission',
      60_000,
      100,
    );
    expect(row.provider_batch_id).toBe(orphan[0]);
    expect(fake.hitCount(CREATE)).toBe(1);
    expect(fake.batches.size).toBe(1);
    expect(fake.hitCount(CANCEL)).toBe(0);
    await b.waitForLog('adopted the batch an earlier attempt created but never recorded');
    const job = await waitFor(async () => {
      const j = (await stack.request('GET', `/api/jobs/${jobId}`)).body as Job;
      return j.status === 'running' ? j : null;
    }, 'the Job handed to the poller');
    expect(job.attempts).toBe(2);

    // And it ends as any batch does.
    fake.endBatch(orphan[0]!, 'succeeded');
    const anthropic = createAnthropicClient(
      { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key' },
      { maxRetries: 0 },
    )!;
    await pollRunningLlmBatches(
      { batches, jobs: stack.api.deps.jobs, anthropic, logger: createLogger({ level: 'error', service: 'test' }) },
      { lookbackWeeks: 2, concurrency: 2, instanceId: 'test-poller' },
      new AbortController().signal,
    );
    expect((await stack.request('GET', `/api/jobs/${jobId}`)).body).toMatchObject({
      status: 'completed',
      result: { total: 3, counts: { succeeded: 3 } },
    });
  }, 180_000);
});
