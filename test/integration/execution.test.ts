import { z } from 'zod';
import { PermanentError } from '../../packages/core/src';
import { defineTask, type Task } from '../../packages/tasks/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent as Event } from '../../packages/db/src/job-row';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';


const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];

/** Test-only tasks, registered from here into this stack's API and worker registries. */
const ignoresSignal = defineTask({
  name: 'test.ignores-signal',
  input: z.strictObject({ ms: z.number().int() }),
  // Deliberately deaf to its AbortSignal: the runner must stop the attempt anyway and drop this result.
  run: async ({ input }) => {
    await new Promise((r) => setTimeout(r, input.ms));
    return { result: { late: true } };
  },
});
const permanent = defineTask({
  name: 'test.permanent',
  input: z.strictObject({}),
  run: async () => {
    throw new PermanentError('this can never work', 'bad_request');
  },
});
let toggleFails = true;
const toggle = defineTask({
  name: 'test.toggle',
  input: z.strictObject({}),
  run: async () => {
    if (toggleFails) throw new Error('toggle says fail');
    return { result: { ok: true } };
  },
});

describe('execution semantics (in-process API and worker, concurrency 1)', () => {
  let stack: TestStack;
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const events = async (id: string) => (await stack.request('GET', `/api/jobs/${id}/events`)).body as Event[];
  const create = async (body: Record<string, unknown>) => {
    const r = await stack.request('POST', '/api/jobs', body);
    expect(r.status).toBe(201);
    return r.body as Job;
  };
  const settled = (id: string, ms = 20_000) => waitFor(async () => {
    const j = await get(id);
    return TERMINAL.includes(j.status) ? j : null;
  }, `job ${id} terminal`, ms);

  beforeAll(async () => {
    // No backlog beyond the worker's slot: fair dispatch decides every order when the worker frees up, so priority holds strictly.
    stack = await startStack({ worker: true, env: { WORKER_CONCURRENCY: '1', FAIR_BACKLOG: '0' } });
    for (const t of [ignoresSignal, permanent, toggle] as Task[]) {
      stack.api.deps.tasks.register(t);
      stack.worker!.tasks.register(t);
    }
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('retries with exponential backoff and full jitter, counting attempts', async () => {
    const backoff = 300;
    const job = await create({ task: 'sleep', input: { ms: 10, fail: true }, max_attempts: 3, backoff_ms: backoff });
    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 3, stop_reason: 'error' });
    expect(done.error).toMatchObject({ message: 'sleep task failed on request' });
    const evs = await events(job.id);
    expect(evs.map((e) => e.to)).toEqual(['created', 'pending', 'running', 'pending', 'running', 'pending', 'running', 'failed']);
    expect(evs.filter((e) => e.to === 'running').map((e) => e.attempt)).toEqual([1, 2, 3]);
    // Each retry's delay is drawn from [0, backoff * 2^(attempt-1)) and the next attempt starts after it.
    for (const attempt of [1, 2]) {
      const back = evs.find((e) => e.from === 'running' && e.to === 'pending' && e.attempt === attempt)!;
      const next = evs.find((e) => e.to === 'running' && e.attempt === attempt + 1)!;
      const chosen = Number(/retry in (\d+) ms/.exec(back.reason!)![1]);
      expect(chosen).toBeGreaterThanOrEqual(0);
      expect(chosen).toBeLessThan(backoff * 2 ** (attempt - 1));
      const gap = Date.parse(next.at) - Date.parse(back.at);
      expect(gap).toBeGreaterThanOrEqual(chosen - 50);
      expect(gap).toBeLessThan(chosen + 5000);
    }
  });

  it('fails at once on a permanent error, whatever max_attempts says', async () => {
    const job = await create({ task: 'test.permanent', max_attempts: 5 });
    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'bad_request' } });
    expect((await events(job.id)).map((e) => e.to)).toEqual(['created', 'pending', 'running', 'failed']);
  });

  it('POST /retry runs a failed job again as a new attempt', async () => {
    toggleFails = true;
    const job = await create({ task: 'test.toggle' });
    expect(await settled(job.id)).toMatchObject({ status: 'failed', attempts: 1 });
    toggleFails = false;
    const r = await stack.request('POST', `/api/jobs/${job.id}/retry`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'pending', error: null, stop_reason: null, completed_at: null });
    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'completed', attempts: 2, result: { ok: true }, error: null });
    const evs = await events(job.id);
    expect(evs.map((e) => `${e.to}@${e.attempt}`)).toEqual(['created@0', 'pending@0', 'running@1', 'failed@1', 'pending@1', 'running@2', 'completed@2']);
    expect((await stack.request('POST', `/api/jobs/${job.id}/retry`)).status).toBe(409);
  });

  it('POST /retry right after cancelling a running job runs it again at once (its queue entry was still finishing)', async () => {
    const job = await create({ task: 'sleep', input: { ms: 10_000 } });
    await waitFor(async () => (await get(job.id)).status === 'running', 'running');
    expect((await stack.request('PATCH', `/api/jobs/${job.id}/cancel`)).status).toBe(200);
    const r = await stack.request('POST', `/api/jobs/${job.id}/retry`);
    expect(r.status).toBe(200);
    // Well before a sweep (SWEEP_INTERVAL_MS 30 s) could have queued it.
    await waitFor(async () => {
      const j = await get(job.id);
      return j.status === 'running' && j.attempts === 2;
    }, 'attempt 2 running', 8000);
    await stack.request('PATCH', `/api/jobs/${job.id}/cancel`);
  });

  it('stops an attempt at timeout_ms even when the handler ignores its signal, and drops its late result', async () => {
    const job = await create({ task: 'test.ignores-signal', input: { ms: 2500 }, timeout_ms: 400 });
    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'expired', stop_reason: 'timeout', result: null, error: { code: 'timeout' } });
    const took = Date.parse(done.completed_at!) - Date.parse(done.started_at!);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(2000);
    // After the deaf handler returns, nothing about the job changes.
    await new Promise((r) => setTimeout(r, 2600));
    expect(await get(job.id)).toMatchObject({ status: 'expired', result: null });
    expect((await events(job.id)).filter((e) => TERMINAL.includes(e.to))).toHaveLength(1);
  });

  it('runs a delayed job no earlier than delay_ms', async () => {
    const job = await create({ task: 'noop', delay_ms: 1500 });
    expect(job.status).toBe('pending');
    const done = await settled(job.id);
    expect(done.status).toBe('completed');
    expect(Date.parse(done.started_at!) - Date.parse(done.created_at)).toBeGreaterThanOrEqual(1450);
  });

  it('expires a job still not running at expires_at (checked at pick-up)', async () => {
    const job = await create({ task: 'noop', delay_ms: 1500, expires_at: new Date(Date.now() + 700).toISOString() });
    const done = await settled(job.id);
    expect(done).toMatchObject({ status: 'expired', stop_reason: 'expired', attempts: 0, started_at: null });
    expect(done.completed_at).not.toBeNull();
  });

  it('takes prioritized jobs lower number first', async () => {
    const blocker = await create({ task: 'sleep', input: { ms: 1200 } });
    await waitFor(async () => (await get(blocker.id)).status === 'running', 'blocker running');
    const order = [50, 10, 90, 1];
    const jobs = [];
    for (const priority of order) jobs.push({ priority, job: await create({ task: 'noop', priority }) });
    const done = await Promise.all(jobs.map(async (j) => ({ priority: j.priority, job: await settled(j.job.id) })));
    const byStart = done.sort((a, b) => Date.parse(a.job.started_at!) - Date.parse(b.job.started_at!)).map((d) => d.priority);
    expect(byStart).toEqual([1, 10, 50, 90]);
  });
});
