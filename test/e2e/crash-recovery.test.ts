import { createJobBodySchema } from '../../packages/core/src';
import { AccountStore, JobStore, createDb } from '../../packages/db/src';
import type { ApiJob as Job } from '../../apps/api/src/presenters/job';
import type { JobEvent as Event } from '../../packages/db/src/job-row';
import { deleteKeysWithPrefix } from '../support/redis';
import { startWorker, type ServiceProcess } from '../support/processes';
import { REDIS_URL } from '../support/env';
import { OPERATOR_KEY, startStack, type TestStack } from '../support/stack';
import { waitFor } from '../support/wait';


const TERMINAL = ['completed', 'failed', 'cancelled', 'expired'];
const STALL = { LOCK_DURATION_MS: '2000', STALLED_INTERVAL_MS: '1000' };

/** Crashes of real worker processes against a real API, Postgres and Redis. */
describe('crash recovery (real worker processes)', () => {
  let stack: TestStack;
  const workers: ServiceProcess[] = [];
  const worker = async (env: Record<string, string>) => {
    const w = await startWorker({ DATABASE_URL: stack.database.url, REDIS_URL, QUEUE_PREFIX: stack.prefix, DB_POOL_SIZE: '5', LOG_LEVEL: 'info', ...STALL, ...env }, env['WORKER_ID']);
    workers.push(w);
    return w;
  };
  const get = async (id: string) => (await stack.request('GET', `/api/jobs/${id}`)).body as Job;
  const events = async (id: string) => (await stack.request('GET', `/api/jobs/${id}/events`)).body as Event[];
  const allIn = (ids: string[], statuses: string[], what: string, ms: number) =>
    waitFor(async () => {
      const jobs = await Promise.all(ids.map(get));
      return jobs.every((j) => statuses.includes(j.status)) ? jobs : null;
    }, what, ms, 100);
  /** One terminal transition, and attempts never go backwards along the history. */
  const expectCleanHistory = (evs: Event[]) => {
    expect(evs.filter((e) => TERMINAL.includes(e.to))).toHaveLength(1);
    expect(TERMINAL).toContain(evs[evs.length - 1]!.to);
    for (let i = 1; i < evs.length; i++) {
      expect(evs[i]!.seq).toBe(evs[i - 1]!.seq + 1);
      expect(evs[i]!.attempt).toBeGreaterThanOrEqual(evs[i - 1]!.attempt);
    }
  };

  beforeEach(async () => {
    stack = await startStack();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.kill();
    await stack.stop();
  });

  it('kill -9 with 10 jobs running: another worker finishes them all, each with one terminal transition', async () => {
    const a = await worker({ WORKER_ID: 'worker-a', WORKER_CONCURRENCY: '20' });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(((await stack.request('POST', '/api/jobs', { task: 'sleep', input: { ms: 3000, progress_steps: 3 } })).body as Job).id);
    await allIn(ids, ['running'], 'all 10 running on worker A', 20_000);

    const killedAt = Date.now();
    expect(await a.kill('SIGKILL')).toBeNull();
    await worker({ WORKER_ID: 'worker-b', WORKER_CONCURRENCY: '20' });
    const bReadyAt = Date.now();

    const done = await allIn(ids, TERMINAL, 'all 10 terminal after the crash', 60_000);
    expect(done.every((j) => j.status === 'completed')).toBe(true);
    const pickups: number[] = [];
    for (const id of ids) {
      const evs = await events(id);
      expectCleanHistory(evs);
      // `pending` is written by the API, or by worker A when it took the job first.
      expect(evs.map((e) => (e.to === 'pending' && e.attempt === 0 ? 'pending@0' : `${e.to}@${e.attempt}:${e.worker_id ?? '-'}`))).toEqual([
        'created@0:-',
        'pending@0',
        'running@1:worker-a',
        'pending@1:worker-b', // the dead attempt closed by the worker that took the job over
        'running@2:worker-b',
        'completed@2:worker-b',
      ]);
      pickups.push(Date.parse(evs.find((e) => e.to === 'running' && e.attempt === 2)!.at) - killedAt);
    }
    const secs = (ms: number) => (ms / 1000).toFixed(1);
    // The figure the README quotes: stall detection with LOCK_DURATION_MS=2000, STALLED_INTERVAL_MS=1000.
    console.log(
      `[measured] stalled jobs picked up ${secs(Math.min(...pickups))}-${secs(Math.max(...pickups))} s after kill -9, ` +
        `${secs(Math.max(...pickups) - (bReadyAt - killedAt))} s after the new worker was up (it took ${secs(bReadyAt - killedAt)} s to start; lock 2000 ms, stalled interval 1000 ms)`,
    );
    expect(Math.max(...pickups)).toBeLessThan(20_000);
  });

  it('Redis loses its data with jobs running, pending and delayed: all still complete through the reconciler', async () => {
    await worker({ WORKER_ID: 'worker-r', WORKER_CONCURRENCY: '3', SWEEP_INTERVAL_MS: '1000' });
    const create = async (body: Record<string, unknown>) => ((await stack.request('POST', '/api/jobs', body)).body as Job).id;
    const running = [];
    for (let i = 0; i < 3; i++) running.push(await create({ task: 'sleep', input: { ms: 2500 } }));
    await allIn(running, ['running'], 'three running', 20_000);
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(await create({ task: 'noop' }));
    const delayed = [];
    for (let i = 0; i < 5; i++) delayed.push(await create({ task: 'noop', delay_ms: 4000 }));

    // Equivalent of FLUSHALL for this test: every key of its prefix (the Redis is shared with others).
    await deleteKeysWithPrefix(stack.prefix);
    const lostAt = Date.now();
    const all = [...running, ...pending, ...delayed];
    const done = await allIn(all, TERMINAL, 'every job terminal after the data loss', 60_000);
    const recoveredIn = Math.max(...done.map((j) => Date.parse(j.completed_at!))) - lostAt;
    console.log(`[measured] after Redis lost its keys, all ${all.length} jobs completed within ${(recoveredIn / 1000).toFixed(1)} s (SWEEP_INTERVAL_MS=1000, reconciler min age 5 s)`);
    expect(done.every((j) => j.status === 'completed')).toBe(true);
    for (const id of all) expectCleanHistory(await events(id));
    for (const id of delayed) {
      const j = await get(id);
      // Requeued with what was left of its delay, never earlier.
      expect(Date.parse(j.started_at!) - Date.parse(j.created_at)).toBeGreaterThanOrEqual(3950);
    }
  });

  it('an API that crashed between insert and enqueue: the row still runs', async () => {
    // The row exactly as the API inserts it, without the enqueue that would follow.
    const db = createDb(stack.database.url, 2);
    let id: string;
    try {
      const actor = await new AccountStore(db).bootstrap(OPERATOR_KEY);
      const { wait_ms: _w, ...body } = createJobBodySchema.parse({ task: 'noop' });
      id = (await new JobStore(db).create(actor, body)).job.id;
    } finally {
      await db.$disconnect();
    }
    expect((await get(id)).status).toBe('created');
    const started = Date.now();
    await worker({ WORKER_ID: 'worker-c', SWEEP_INTERVAL_MS: '1000' });
    const done = await waitFor(async () => {
      const j = await get(id);
      return TERMINAL.includes(j.status) ? j : null;
    }, 'stranded row completed', 30_000, 100);
    expect(done.status).toBe('completed');
    console.log(`[measured] a row the API never enqueued ran ${((Date.parse(done.completed_at!) - started) / 1000).toFixed(1)} s after a worker started (reconciler min age 5 s)`);
    expect((await events(id)).map((e) => e.to)).toEqual(['created', 'pending', 'running', 'completed']);
  });
});
