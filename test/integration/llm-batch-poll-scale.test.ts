import { pollRunningLlmBatches } from '../../apps/worker/src/batches/poll-llm-batches';
import { newId } from '../../packages/core/src';
import { BatchStore } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { createAnthropicClient } from '../../packages/tasks/src';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { startStack, type TestStack } from '../support/stack';

const BATCHES = 1000;
const OUTCOMES = ['succeeded', 'errored', 'canceled', 'expired', 'succeeded'];

/** One poll cycle over 1,000 running batches (5 requests each): timing, and one status statement per cycle. */
describe('poll_running_llm_batches over 1,000 running batches', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.stop();
    await fake.stop();
  });

  it('polls them all in one cycle, then finishes them all in the next', async () => {
    const db = stack.api.deps.db;
    const providerIds = Array.from({ length: BATCHES }, () =>
      fake.createBatch(OUTCOMES.map((o, i) => ({ custom_id: `${o}-${i}`, params: { model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } }))).id,
    );
    const jobIds = providerIds.map(() => newId('job'));
    const [owner] = await db.$queryRawUnsafe<{ organization_id: string; user_id: string }[]>('SELECT organization_id, user_id FROM api_keys LIMIT 1');
    // Seeded as the llm.batch task leaves them: running, handed off, submitted.
    await db.$executeRawUnsafe(
      `INSERT INTO jobs (id, organization_id, user_id, job_type, task, status, attempts, started_at, completion_owner, event_seq)
       SELECT id, $2, $3, 'batch', 'llm.batch', 'running', 1, now(), 'llm-batch-poller', 3 FROM unnest($1::text[]) AS id`,
      jobIds,
      owner!.organization_id,
      owner!.user_id,
    );
    await db.$executeRawUnsafe(
      `INSERT INTO llm_batch_jobs (job_id, provider_batch_id, processing_status, submitted_at)
       SELECT j, p, 'in_progress', now() FROM unnest($1::text[], $2::text[]) AS u(j, p)`,
      jobIds,
      providerIds,
    );
    await db.$executeRawUnsafe(
      `INSERT INTO llm_batch_items (id, batch_job_id, seq, custom_id, request, status)
       SELECT 'batch_item-' || gen_random_uuid(), j, g, ($2::text[])[g + 1] || '-' || g, '{}'::jsonb, 'submitted'
       FROM unnest($1::text[]) AS j, generate_series(0, 4) AS g`,
      jobIds,
      OUTCOMES,
    );

    const batches = new BatchStore(db);
    const recordPolls = jest.spyOn(batches, 'recordPolls');
    const anthropic = createAnthropicClient({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'k' }, { maxRetries: 0 })!;
    const cycle = () =>
      pollRunningLlmBatches(
        { batches, jobs: stack.api.deps.jobs, anthropic, logger: createLogger({ level: 'error', service: 'test' }) },
        { lookbackWeeks: 2, concurrency: 10, instanceId: 'scale-test' },
        new AbortController().signal,
      );

    const inProgress = await cycle();
    expect(inProgress).toMatchObject({ batches_polled: BATCHES, batches_ended: 0, poll_errors: 0 });
    expect(recordPolls).toHaveBeenCalledTimes(1);
    expect(recordPolls.mock.calls[0]![0]).toHaveLength(BATCHES);

    for (const id of providerIds) fake.endBatch(id);
    const ended = await cycle();
    expect(ended).toMatchObject({ batches_polled: BATCHES, batches_ended: BATCHES, jobs_finished: BATCHES, items_updated: BATCHES * 5, poll_errors: 0 });
    expect(recordPolls).toHaveBeenCalledTimes(2);
    console.log(
      `[measured] one poll cycle over ${BATCHES} running batches: ${inProgress.duration_ms} ms while in progress; ` +
        `${ended.duration_ms} ms when all ended (results of ${BATCHES * 5} items streamed, ${BATCHES} jobs finished), concurrency 10`,
    );

    const jobs = await db.$queryRawUnsafe<{ status: string; n: number }[]>(`SELECT status, count(*)::int AS n FROM jobs WHERE job_type = 'batch' GROUP BY status`);
    expect(jobs).toEqual([{ status: 'completed', n: BATCHES }]);
    const results = await db.$queryRawUnsafe<{ result: unknown; n: number }[]>(`SELECT result, count(*)::int AS n FROM jobs WHERE job_type = 'batch' GROUP BY result`);
    expect(results).toEqual([{ result: { total: 5, counts: { succeeded: 2, errored: 1, canceled: 1, expired: 1 } }, n: BATCHES }]);
    const items = await db.$queryRawUnsafe<{ status: string; n: number }[]>('SELECT status, count(*)::int AS n FROM llm_batch_items GROUP BY status ORDER BY status');
    expect(items).toEqual([
      { status: 'canceled', n: BATCHES },
      { status: 'errored', n: BATCHES },
      { status: 'expired', n: BATCHES },
      { status: 'succeeded', n: BATCHES * 2 },
    ]);
    expect((await cycle()).batches_polled).toBe(0);
  }, 180_000);
});
