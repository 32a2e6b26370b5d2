import { z } from 'zod';
import type { ApiJob as Job } from '../../packages/db/src/job-row';
import { registry } from '../../packages/observability/src';
import { defineTask, type Task } from '../../packages/tasks/src';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/** Start and end times of each handler run, by job id, as the handlers saw them. */
const runs = new Map<string, { startedAt: number; endedAt?: number }>();
const deaf = defineTask({
  name: 'test.deaf',
  input: z.strictObject({ ms: z.number().int() }),
  // Ignores its AbortSignal on purpose: it goes on past its timeout or cancel.
  run: async ({ input, jobId }) => {
    const r = { startedAt: Date.now() } as { startedAt: number; endedAt?: number };
    runs.set(jobId, r);
    // Unref'd: a handler still sleeping when the test ends does not keep jest alive.
    await new Promise((res) => setTimeout(res, input.ms).unref());
    r.endedAt = Date.now();
    return { result: { late: true } };
  },
});
const record = defineTask({
  name: 'test.record',
  input: z.strictObject({}),
  run: async ({ jobId }) => {
    runs.set(jobId, { startedAt: Date.now(), endedAt: Date.now() });
    return { result: {} };
  },
});

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name) as { values: { value: number; labels: Record<string, string> }[] } | undefined;
  if (!m) return Number.NaN;
  return m.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

describe('abandoned handlers count against the concurrency (WORKER_CONCURRENCY 1)', () => {
  let stack: TestStack;
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const create = async (body: Record<string, unknown>) => ((await stack.request('POST', '/api/jobs', body)).body as Job).id;

  beforeAll(async () => {
    stack = await startStack({ worker: true, env: { WORKER_CONCURRENCY: '1' } });
    for (const t of [deaf, record] as Task[]) {
      stack.api.deps.tasks.register(t);
      stack.worker!.tasks.register(t);
    }
  });
  let stopped = false;
  afterAll(async () => {
    if (!stopped) await stack.stop();
  });

  it('a handler that ignores its signal past timeout_ms keeps its slot until it returns, and is metered', async () => {
    const totalBefore = (await metric('jobsvc_abandoned_handlers_total', { task: 'test.deaf', cause: 'timeout' })) || 0;
    const a = await create({ task: 'test.deaf', input: { ms: 5000 }, timeout_ms: 300 });
    await waitFor(async () => (await get(a)).status === 'running', 'the deaf job running');
    const b = await create({ task: 'test.record' });
    // The attempt still ends at its deadline.
    await waitFor(async () => (await get(a)).status === 'expired', 'the deaf job expired at its timeout', 10_000);
    // Its handler is still running: it is counted, and the slot stays taken.
    await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 1, 'the abandoned-handler gauge at 1', 10_000);
    expect(await metric('jobsvc_abandoned_handlers_total', { task: 'test.deaf', cause: 'timeout' })).toBe(totalBefore + 1);
    expect(runs.get(a)!.endedAt).toBeUndefined();
    expect((await get(b)).status).toBe('pending');

    await waitFor(async () => (await get(b)).status === 'completed', 'the second job to run once the deaf handler returned', 20_000);
    // The second job started only after the abandoned handler had returned.
    expect(runs.get(b)!.startedAt).toBeGreaterThanOrEqual(runs.get(a)!.endedAt!);
    expect(await metric('jobsvc_abandoned_handlers')).toBe(0);
    expect(await get(a)).toMatchObject({ status: 'expired', stop_reason: 'timeout', result: null });
  }, 60_000);

  it('a cancelled handler that ignores its signal holds its slot the same way', async () => {
    const a = await create({ task: 'test.deaf', input: { ms: 4000 } });
    await waitFor(async () => (await get(a)).status === 'running', 'the deaf job running');
    expect((await stack.request('PATCH', `/api/jobs/${a}/cancel`)).status).toBe(200);
    const b = await create({ task: 'test.record' });
    await waitFor(async () => (await get(b)).status === 'completed', 'the second job to run', 20_000);
    expect(runs.get(b)!.startedAt).toBeGreaterThanOrEqual(runs.get(a)!.endedAt!);
    expect(await metric('jobsvc_abandoned_handlers_total', { task: 'test.deaf', cause: 'cancelled' })).toBe(1);
  }, 60_000);

  it('a handler that never returns does not hold up shutdown past SHUTDOWN_GRACE_MS (2000 here)', async () => {
    const a = await create({ task: 'test.deaf', input: { ms: 600_000 }, timeout_ms: 200 });
    await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 1, 'the handler abandoned', 20_000);
    expect((await get(a)).status).toBe('expired');
    const t0 = Date.now();
    stopped = true;
    await stack.stop();
    const took = Date.now() - t0;
    console.log(`[measured] worker with an abandoned handler stopped in ${took} ms (SHUTDOWN_GRACE_MS 2000)`);
    expect(await metric('jobsvc_abandoned_handlers')).toBe(0);
  }, 60_000);
});
