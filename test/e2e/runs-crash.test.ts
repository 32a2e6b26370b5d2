import { FakeAnthropic } from '../fakes/anthropic-server';
import { REDIS_URL } from '../support/env';
import { startWorker, type ServiceProcess } from '../support/processes';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  attempts: number;
  ttft_ns: number | null;
}

/** A worker killed mid-stream: the attempt budget re-runs the run elsewhere, and exactly one step is written. */
describe('runs: a worker killed mid-stream (real worker processes)', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  const workers: ServiceProcess[] = [];
  const worker = async (name: string) => {
    const w = await startWorker(
      {
        DATABASE_URL: stack.database.url,
        REDIS_URL,
        QUEUE_PREFIX: stack.prefix,
        DB_POOL_SIZE: '5',
        LOG_LEVEL: 'info',
        LOCK_DURATION_MS: '2000',
        STALLED_INTERVAL_MS: '1000',
        ANTHROPIC_BASE_URL: fake.url,
        ANTHROPIC_API_KEY: 'test-key',
        WORKER_ID: name,
      },
      name,
    );
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack();
  });
  afterAll(async () => {
    for (const w of workers.splice(0)) await w.kill();
    await stack?.stop();
    await fake?.stop();
  });

  it('kill -9 while streaming: the next worker runs it again (attempts 2), one step, the first stream seen closed', async () => {
    fake.streaming({ deltaDelayMs: 150 });
    const a = await worker('worker-a');
    const words = Array.from({ length: 30 }, (_, i) => `k${i}`).join(' ');
    const created = expectStatus<Job>(
      await stack.request('POST', '/api/jobs', { task: 'anthropic.message', input: { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: words }] }, max_attempts: 1 }),
      201,
    );
    await waitFor(async () => expectStatus<Job>(await stack.request('GET', `/api/runs/${created.id}`), 200).ttft_ns !== null, 'the first token', 30_000);
    expect(await a.kill('SIGKILL')).toBeNull();
    await waitFor(() => fake.closedStreams.length === 1, 'the fake to see the stream closed', 15_000);
    fake.streaming({ deltaDelayMs: 0 });
    await worker('worker-b');
    const job = await waitFor(async () => {
      const j = expectStatus<Job>(await stack.request('GET', `/api/runs/${created.id}`), 200);
      return j.status === 'completed' ? j : null;
    }, 'the run to complete on the next worker', 60_000, 100);
    // max_attempts 1 + MAX_STALLED_COUNT 1: one crash never fails a job.
    expect(job.attempts).toBe(2);
    const steps = expectStatus<unknown[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200);
    expect(steps).toHaveLength(1);
    const messages = expectStatus<{ role: string }[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(fake.streamsStarted).toHaveLength(2);
  });
});
