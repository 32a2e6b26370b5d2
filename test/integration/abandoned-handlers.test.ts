import { z } from 'zod';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { registry } from '../../packages/observability/src';
import { abortableDelay, defineTask, type Task } from '../../packages/tasks/src';
import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import { deleteKeysWithPrefix } from '../support/redis';
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

/** Deaf on its first attempt only (sleeps `ms` whatever its signal says); later attempts finish at once. */
const deafOnce = defineTask({
  name: 'test.deaf-once',
  input: z.strictObject({ ms: z.number().int() }),
  run: async ({ input, jobId, attempt }) => {
    runs.set(`${jobId}#${attempt}`, { startedAt: Date.now() });
    if (attempt === 1) await new Promise((res) => setTimeout(res, input.ms).unref());
    runs.get(`${jobId}#${attempt}`)!.endedAt = Date.now();
    return { result: { attempt } };
  },
});

/** Sleeps `ms`, stopping early on its signal; records its run under the job id. */
const sleepy = defineTask({
  name: 'test.sleepy',
  input: z.strictObject({ ms: z.number().int() }),
  run: async ({ input, jobId, signal }) => {
    const r = { startedAt: Date.now() } as { startedAt: number; endedAt?: number };
    runs.set(jobId, r);
    await abortableDelay(input.ms, signal);
    r.endedAt = Date.now();
    return { result: {} };
  },
});

async function stackWithDeaf(env: Record<string, string>): Promise<TestStack> {
  const stack = await startStack({ worker: true, env });
  for (const t of [deaf, record, deafOnce, sleepy] as Task[]) {
    stack.api.deps.tasks.register(t);
    stack.worker!.tasks.register(t);
  }
  return stack;
}

describe('a retried job is not held behind its abandoned handler', () => {
  it('WORKER_CONCURRENCY 2: the retried attempt runs in the slot left while the deaf handler still runs', async () => {
    const stack = await stackWithDeaf({ WORKER_CONCURRENCY: '2' });
    try {
      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      const a = ((await stack.request('POST', '/api/jobs', { task: 'test.deaf-once', input: { ms: 600_000 } })).body as Job).id;
      await waitFor(async () => (await get(a)).status === 'running', 'the deaf attempt running');
      expect((await stack.request('PATCH', `/api/jobs/${a}/cancel`)).status).toBe(200);
      await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 1, 'the cancelled handler abandoned', 20_000);
      expect((await stack.request('POST', `/api/jobs/${a}/retry`)).status).toBe(200);
      await waitFor(async () => (await get(a)).status === 'completed', 'the retried attempt to complete', 30_000);
      expect(await get(a)).toMatchObject({ attempts: 2, result: { attempt: 2 } });
      // The first attempt's handler is still running: the retry did not wait for it.
      expect(runs.get(`${a}#1`)!.endedAt).toBeUndefined();
    } finally {
      await stack.stop();
    }
  }, 90_000);

  it('WORKER_CONCURRENCY 1: the retried attempt runs on another worker process', async () => {
    const stack = await stackWithDeaf({ WORKER_CONCURRENCY: '1' });
    let other: WorkerProcess | undefined;
    try {
      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      const a = ((await stack.request('POST', '/api/jobs', { task: 'test.deaf-once', input: { ms: 600_000 }, timeout_ms: 300 })).body as Job).id;
      await waitFor(async () => (await get(a)).status === 'expired', 'the deaf attempt timed out', 20_000);
      await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 1, 'the timed-out handler abandoned', 20_000);
      // A second worker joins only now, so the first attempt certainly ran on the first one.
      other = createWorkerProcess({ ...stack.settings, WORKER_ID: 'second-worker' });
      other.tasks.register(deafOnce as Task);
      await other.start();
      expect((await stack.request('POST', `/api/jobs/${a}/retry`)).status).toBe(200);
      await waitFor(async () => (await get(a)).status === 'completed', 'the retried attempt to complete', 30_000);
      expect(await get(a)).toMatchObject({ attempts: 2, result: { attempt: 2 } });
      expect(runs.get(`${a}#1`)!.endedAt).toBeUndefined();
    } finally {
      await other?.stop();
      await stack.stop();
    }
  }, 90_000);
});

describe('abandoned handlers still count against WORKER_CONCURRENCY 2', () => {
  it('with one handler abandoned, the jobs after it run one at a time until it returns', async () => {
    const stack = await stackWithDeaf({ WORKER_CONCURRENCY: '2' });
    try {
      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      const create = async (body: Record<string, unknown>) => ((await stack.request('POST', '/api/jobs', body)).body as Job).id;
      const a = await create({ task: 'test.deaf', input: { ms: 8000 }, timeout_ms: 300 });
      await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 1, 'the handler abandoned', 20_000);
      const b = await create({ task: 'test.sleepy', input: { ms: 1500 } });
      const c = await create({ task: 'test.sleepy', input: { ms: 1500 } });
      await waitFor(async () => (await get(b)).status === 'completed' && (await get(c)).status === 'completed', 'both jobs completed', 30_000);
      const [first, second] = [runs.get(b)!, runs.get(c)!].sort((x, y) => x.startedAt - y.startedAt);
      const aEnded = runs.get(a)!.endedAt;
      // One slot stayed taken by the deaf handler: the second job started after the first ended (or after
      // the deaf handler returned, when it did in between).
      expect(second!.startedAt).toBeGreaterThanOrEqual(Math.min(first!.endedAt!, aEnded ?? Infinity));
      await waitFor(async () => (await metric('jobsvc_abandoned_handlers')) === 0, 'the deaf handler returned', 20_000);
      // Its slot is back: two jobs run at once again.
      const d = await create({ task: 'test.sleepy', input: { ms: 2000 } });
      const e = await create({ task: 'test.sleepy', input: { ms: 2000 } });
      await waitFor(async () => (await get(d)).status === 'completed' && (await get(e)).status === 'completed', 'both jobs completed', 30_000);
      expect(Math.max(runs.get(d)!.startedAt, runs.get(e)!.startedAt)).toBeLessThan(Math.min(runs.get(d)!.endedAt!, runs.get(e)!.endedAt!));
    } finally {
      await stack.stop();
    }
  }, 90_000);
});

describe('shutdown with a handler abandoned late in the grace', () => {
  it('a deaf handler timing out within ABANDON_GRACE_MS of the grace running out does not hold up shutdown', async () => {
    const stack = await stackWithDeaf({ WORKER_CONCURRENCY: '1', SHUTDOWN_GRACE_MS: '2000' });
    let hung = false;
    try {
      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      const a = ((await stack.request('POST', '/api/jobs', { task: 'test.deaf', input: { ms: 600_000 }, timeout_ms: 3000 })).body as Job).id;
      const started = (await waitFor(() => runs.get(a), 'the deaf handler started')).startedAt;
      // The timeout fires at started+3000, 500 ms before the grace (2000 ms from here) runs out; the handler
      // is found deaf 1 s later, after it ran out.
      await new Promise((r) => setTimeout(r, Math.max(0, started + 1500 - Date.now())));
      const t0 = Date.now();
      const stopping = stack.worker!.stop();
      const outcome = await Promise.race([stopping.then(() => 'stopped'), new Promise((r) => setTimeout(r, 20_000).unref()).then(() => 'hung')]);
      hung = outcome === 'hung';
      expect(outcome).toBe('stopped');
      console.log(`[measured] worker stopped in ${Date.now() - t0} ms (SHUTDOWN_GRACE_MS 2000)`);
      expect((await get(a)).status).toBe('expired');
      expect(await metric('jobsvc_abandoned_handlers')).toBe(0);
    } finally {
      // A hung worker cannot be stopped; its database and keys are left behind.
      if (!hung) {
        // The worker is stopped already: the rest of what stack.stop() does.
        await stack.api.stop();
        await deleteKeysWithPrefix(stack.prefix);
        await stack.database.drop();
      }
    }
  }, 60_000);
});
