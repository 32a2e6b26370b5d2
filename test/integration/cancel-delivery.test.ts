import { z } from 'zod';
import { JobStore, createDb } from '../../packages/db/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { Redis } from 'ioredis';
import { channels } from '../../packages/queue/src';
import { abortableDelay, defineTask, type Task } from '../../packages/tasks/src';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix } from '../support/redis';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];

/** When each attempt's signal fired, by job id and attempt: what the handler itself saw. */
const abortedAt = new Map<string, number>();
const watched = defineTask({
  name: 'test.watch-signal',
  input: z.strictObject({ ms: z.number().int(), progress_every_ms: z.number().int().optional() }),
  run: async ({ input, signal, jobId, attempt, reportProgress }) => {
    signal.addEventListener('abort', () => abortedAt.set(`${jobId}#${attempt}`, Date.now()), { once: true });
    const until = Date.now() + input.ms;
    while (Date.now() < until) {
      await abortableDelay(Math.min(input.progress_every_ms ?? input.ms, until - Date.now()), signal);
      if (input.progress_every_ms) await reportProgress(50, 'working');
    }
    return { result: { ran_ms: input.ms } };
  },
});

async function stackWith(env: Record<string, string>): Promise<TestStack> {
  const stack = await startStack({ worker: true, env: { WORKER_CONCURRENCY: '1', ...env } });
  stack.api.deps.tasks.register(watched as Task);
  stack.worker!.tasks.register(watched as Task);
  return stack;
}

/** Writes `cancelled` the way the API does, but without the pub/sub message (as if every worker missed it). */
async function cancelSilently(stack: TestStack, id: string): Promise<number> {
  const db = createDb(stack.database.url, 1);
  try {
    const done = await new JobStore(db).transition(id, 'cancelled', { reason: 'cancelled by client', stopReason: 'cancelled' });
    expect(done?.status).toBe('cancelled');
    return Date.now();
  } finally {
    await db.$disconnect();
  }
}

describe('cancel delivery (SPEC F4: a cancel reaches the attempt it was meant for)', () => {
  describe('with the default lock duration', () => {
    let stack: TestStack;
    const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
    const create = async (body: Record<string, unknown>) => ((await stack.request('POST', '/api/jobs', body)).body as Job).id;

    beforeAll(async () => {
      stack = await stackWith({});
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('a late cancel message for an older attempt leaves the current attempt running', async () => {
      const id = await create({ task: 'test.watch-signal', input: { ms: 3000 } });
      await waitFor(async () => (await get(id)).status === 'running', 'attempt 1 running');
      expect((await stack.request('PATCH', `/api/jobs/${id}/cancel`)).status).toBe(200);
      await waitFor(() => abortedAt.has(`${id}#1`), 'attempt 1 aborted by its cancel');
      expect((await stack.request('POST', `/api/jobs/${id}/retry`)).status).toBe(200);
      await waitFor(async () => {
        const j = await get(id);
        return j.status === 'running' && j.attempts === 2;
      }, 'attempt 2 running', 15_000);
      // The cancel of attempt 1 arrives again, late (a slow subscriber, a redelivery).
      const pub = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        await pub.publish(channels(stack.prefix).cancel, JSON.stringify({ job_id: id, attempt: 1, reason: 'cancelled' }));
      } finally {
        pub.disconnect();
      }
      const done = await waitFor(async () => {
        const j = await get(id);
        return TERMINAL.includes(j.status) ? j : null;
      }, 'attempt 2 to finish', 20_000, 100);
      expect(abortedAt.has(`${id}#2`)).toBe(false);
      expect(done).toMatchObject({ status: 'completed', attempts: 2, result: { ran_ms: 3000 } });
    }, 60_000);

    it('a missed cancel is caught by the next progress report of the attempt', async () => {
      const id = await create({ task: 'test.watch-signal', input: { ms: 60_000, progress_every_ms: 200 } });
      await waitFor(async () => (await get(id)).status === 'running', 'running');
      const cancelledAt = await cancelSilently(stack, id);
      const at = await waitFor(() => abortedAt.get(`${id}#1`), 'the handler aborted', 20_000);
      console.log(`[measured] missed cancel caught by a progress report ${at - cancelledAt} ms after the write (progress every 200 ms, LOCK_DURATION_MS 30000)`);
      // The slot is free again: the next job runs (concurrency 1).
      const next = await create({ task: 'noop' });
      await waitFor(async () => (await get(next)).status === 'completed', 'the next job completed', 20_000);
      expect(await get(id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    }, 60_000);
  });

  describe('with LOCK_DURATION_MS 2000', () => {
    let stack: TestStack;
    const lockMs = 2000;
    const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;

    beforeAll(async () => {
      stack = await stackWith({ LOCK_DURATION_MS: String(lockMs), STALLED_INTERVAL_MS: '1000' });
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('a cancel whose pub/sub message never arrived aborts the handler within LOCK_DURATION_MS', async () => {
      const id = ((await stack.request('POST', '/api/jobs', { task: 'test.watch-signal', input: { ms: 60_000 } })).body as Job).id;
      await waitFor(async () => (await get(id)).status === 'running', 'running');
      const cancelledAt = await cancelSilently(stack, id);
      // Generous under load; without the check the handler would run its full 60 s.
      const at = await waitFor(() => abortedAt.get(`${id}#1`), 'the handler aborted', 20_000);
      console.log(`[measured] missed cancel caught ${at - cancelledAt} ms after the write (LOCK_DURATION_MS ${lockMs})`);
      expect(stack.worker!.runner.runningJobIds()).not.toContain(id);
      expect(await get(id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    }, 60_000);
  });
});

describe('a cancel missed during the shutdown grace', () => {
  /** Why each attempt's signal fired ("cancelled", "shutdown", ...), as the handler saw it. */
  const abortedWhy = new Map<string, string>();
  const slow = defineTask({
    name: 'test.slow-why',
    input: z.strictObject({}),
    run: async ({ signal, jobId, attempt }) => {
      signal.addEventListener('abort', () => abortedWhy.set(`${jobId}#${attempt}`, String((signal.reason as { why?: unknown }).why)), { once: true });
      await abortableDelay(600_000, signal);
      return { result: {} };
    },
  });

  it('is still caught by the attempt watch, before the grace runs out', async () => {
    // Watch every 500 ms; a grace long enough that the cancel is seen well within it.
    const stack = await startStack({ worker: true, env: { WORKER_CONCURRENCY: '1', LOCK_DURATION_MS: '1000', SHUTDOWN_GRACE_MS: '8000' } });
    stack.api.deps.tasks.register(slow as Task);
    stack.worker!.tasks.register(slow as Task);
    try {
      const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
      const a = ((await stack.request('POST', '/api/jobs', { task: 'test.slow-why', input: {} })).body as Job).id;
      await waitFor(async () => (await get(a)).status === 'running', 'the job running');
      const t0 = Date.now();
      const stopping = stack.worker!.stop();
      await cancelSilently(stack, a);
      await stopping;
      console.log(`[measured] worker stopped in ${Date.now() - t0} ms (SHUTDOWN_GRACE_MS 8000)`);
      expect(abortedWhy.get(`${a}#1`)).toBe('cancelled');
      expect((await get(a)).status).toBe('cancelled');
    } finally {
      // The worker is stopped already: the rest of what stack.stop() does.
      await stack.api.stop();
      await deleteKeysWithPrefix(stack.prefix);
      await stack.database.drop();
    }
  }, 60_000);
});
