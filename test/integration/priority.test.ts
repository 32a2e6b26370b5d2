import { createWorkerProcess, type WorkerProcess } from '../../apps/worker/src/worker-process';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import { startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';

/**
 * API.md: `priority` 1 runs first, 100 last, null ranks as 50. BullMQ takes unprioritized jobs before
 * prioritized ones, so every job must be queued with a priority for this to hold.
 */
describe('priority order (API.md: 1 first, 100 last, null as 50)', () => {
  let stack: TestStack;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    // A backlog above the workers' slots lets the API move jobs into BullMQ with no worker alive (fair dispatch, SPEC F16).
    stack = await startStack({ worker: false, env: { WORKER_CONCURRENCY: '1', FAIR_BACKLOG: '100' } });
  });
  afterAll(async () => {
    await worker?.stop();
    await stack.stop();
  });

  const create = async (body: Record<string, unknown>): Promise<Job> => {
    const r = await stack.request('POST', '/api/jobs', body);
    expect(r.status).toBe(201);
    return r.body as Job;
  };
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;

  it('runs queued jobs in priority order once a worker (concurrency 1) starts', async () => {
    // Created in this order, with no worker running; null ties with 50 and keeps arrival order.
    const priorities = [null, 100, 1, 50, 49, 51, null, 2, 99];
    const jobs: { id: string; priority: number | null; index: number }[] = [];
    for (const [index, priority] of priorities.entries()) {
      // A short sleep keeps every start on its own millisecond.
      const job = await create({ task: 'sleep', input: { ms: 20 }, ...(priority === null ? {} : { priority }) });
      expect(job.status).toBe('pending');
      jobs.push({ id: job.id, priority, index });
    }

    worker = createWorkerProcess(stack.settings);
    await worker.start();
    const done = await waitFor(async () => {
      const rows = await Promise.all(jobs.map((j) => get(j.id)));
      return rows.every((r) => r.status === 'completed') ? rows : null;
    }, 'every job completed', 60_000);

    const ran = jobs
      .map((j, i) => ({ ...j, startedAt: Date.parse(done[i]!.started_at!) }))
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((j) => j.priority);
    expect(ran).toEqual([1, 2, 49, null, 50, null, 51, 99, 100]);
  });

  it('queues a job with a priority on every path: create, retry and the reconciler', async () => {
    await worker?.stop();
    worker = undefined;
    const queue = stack.api.deps.queue.queue;
    const plain = await create({ task: 'noop' });
    const urgent = await create({ task: 'noop', priority: 3 });
    // Fair dispatch adds staged jobs just after the create answers.
    const entry = (id: string) => waitFor(async () => (await queue.getJob(id)) ?? null, `queue entry of ${id}`);
    expect((await entry(plain.id)).opts.priority).toBe(50);
    expect((await entry(urgent.id)).opts.priority).toBe(3);
    expect(await queue.getJobState(plain.id)).toBe('prioritized');

    // The reconciler's re-enqueue (the queue entry was lost) and the retry route requeue through the same path.
    await (await queue.getJob(plain.id))!.remove();
    await stack.api.deps.queue.requeue({ ...(await stack.api.deps.jobs.findById(plain.id))! });
    expect((await entry(plain.id)).opts.priority).toBe(50);
    expect(await queue.getJobState(plain.id)).toBe('prioritized');
  });
});
