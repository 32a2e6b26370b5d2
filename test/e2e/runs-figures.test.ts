import { loadavg } from 'node:os';
import { FakeAnthropic } from '../fakes/anthropic-server';
import { REDIS_URL } from '../support/env';
import { startWorker, type ServiceProcess } from '../support/processes';
import { startStack, type TestStack } from '../support/stack';
import { expectStatus } from '../support/tenants';
import { waitFor } from '../support/wait';

interface Job {
  id: string;
  status: string;
  ttft_ns: number | null;
  total_duration_ns: number | null;
  created_at: string;
  started_at: string;
}

const RUNS = 30;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5).toFixed(1)} ms, p95 ${q(0.95).toFixed(1)} ms, min ${s[0]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms`;
};

/**
 * Issue 12's figures, measured and printed (not asserted: the machine is shared): the TTFT a run records, and
 * the overhead the service adds between a client's create and the first token, with the fake answering at once.
 */
describe('runs: measured TTFT and service overhead (figures, printed)', () => {
  let stack: TestStack;
  let fake: FakeAnthropic;
  let worker: ServiceProcess;

  beforeAll(async () => {
    fake = new FakeAnthropic();
    await fake.start();
    stack = await startStack();
    worker = await startWorker({ DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info', ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'k' });
  });
  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
    await fake?.stop();
  });

  it(`${RUNS} sequential runs, the fake answering at once`, async () => {
    const ttft: number[] = [];
    const toFirstToken: number[] = [];
    const toRecorded: number[] = [];
    for (let i = -3; i < RUNS; i++) {
      const model = `fig-${i}`;
      const t0 = Date.now();
      const created = expectStatus<Job>(
        await stack.request('POST', '/api/jobs', { task: 'anthropic.message', input: { model, max_tokens: 16, messages: [{ role: 'user', content: 'hi there' }] } }),
        201,
      );
      const job = await waitFor(async () => {
        const j = expectStatus<Job>(await stack.request('GET', `/api/runs/${created.id}`), 200);
        return j.status === 'completed' ? j : null;
      }, 'the run', 30_000, 10);
      if (i < 0) continue; // warm-up (connections, prepared statements, JIT)
      const stream = fake.streamsStarted.find((s) => s.model === model)!;
      ttft.push(job.ttft_ns! / 1e6);
      // Client create -> the provider sends the first token (the fake takes no time of its own).
      toFirstToken.push(stream.firstDeltaAt! - t0);
      // Row created -> first token seen by the worker, on the service's own clocks (Postgres now() and hrtime).
      toRecorded.push(Date.parse(job.started_at) + job.ttft_ns! / 1e6 - Date.parse(job.created_at));
    }
    const load = loadavg().map((l) => l.toFixed(2)).join(', ');
    console.log(
      [
        `runs figures (${RUNS} sequential runs, fake answering at once; load average ${load}):`,
        `  recorded ttft_ns:                         ${stats(ttft)}`,
        `  client create -> first token sent:        ${stats(toFirstToken)}`,
        `  row created -> first token (server clocks): ${stats(toRecorded)}`,
      ].join('\n'),
    );
    expect(ttft).toHaveLength(RUNS);
  });
});
