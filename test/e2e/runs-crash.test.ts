import { FakeAnthropic } from '../fakes/anthropic-server';
import { startStack, type TestStack } from '../support/stack';
import { stackWorkers } from '../support/stack-workers';
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
  const workers = stackWorkers(
    () => stack,
    () => ({ ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'test-key' }),
  );
  const worker = (name: string) => workers.start(name);

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack();
  });
  afterAll(async () => {
    await workers.killAll();
    await stack?.stop();
    await fake?.stop();
  });

  it('kill -9 while streaming: the next worker runs it again (attempts 2), one step, the first stream seen closed', async () => {
    fake.streaming({ deltaDelayMs: 150 });
    const a = await worker('worker-a');
    const words = Array.from({ length: 30 }, (_, i) => `k${i}`).join(' ');
    const created = expectStatus<Job>(
      await stack.request('POST', '/api/jobs', {
        task: 'anthropic.message',
        input: { model: 'm', max_tokens: 100, messages: [{ role: 'user', content: words }] },
        max_attempts: 1,
      }),
      201,
    );
    await waitFor(
      async () => expectStatus<Job>(await stack.request('GET', `/api/runs/${created.id}`), 200).ttft_ns !== null,
      'the first token',
      30_000,
    );
    expect(await a.kill('SIGKILL')).toBeNull();
    await waitFor(() => fake.closedStreams.length === 1, 'the fake to see the stream closed', 15_000);
    fake.streaming({ deltaDelayMs: 0 });
    await worker('worker-b');
    const job = await waitFor(
      async () => {
        const j = expectStatus<Job>(await stack.request('GET', `/api/runs/${created.id}`), 200);
        return j.status === 'completed' ? j : null;
      },
      'the run to complete on the next worker',
      60_000,
      100,
    );
    // max_attempts 1 + MAX_STALLED_COUNT 1: one crash never fails a job.
    expect(job.attempts).toBe(2);
    const steps = expectStatus<unknown[]>(await stack.request('GET', `/api/runs/${job.id}/steps`), 200);
    expect(steps).toHaveLength(1);
    const messages = expectStatus<{ role: string }[]>(await stack.request('GET', `/api/runs/${job.id}/messages`), 200);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(fake.streamsStarted).toHaveLength(2);
  });
});
