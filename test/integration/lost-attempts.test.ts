import { Worker } from 'bullmq';
import { createJobBodySchema, type Actor } from '../../packages/core/src';
import { AccountStore, JobStore, ReconcilerStore, createDb, type Db, type JobRow } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { JOBS_QUEUE, JobQueue, createRedis } from '../../packages/queue/src';
import { Reconciler } from '../../apps/worker/src/reconciler';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

const logger = createLogger({ level: 'error', service: 'test' });

/** The decision every path that re-runs a lost attempt goes through (JobStore.recoverLostAttempt). */
describe('lost attempts: the attempt budget (SPEC F4)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let actor: Actor;
  let queue: JobQueue;
  const prefix = testPrefix();

  const insert = async (body: Record<string, unknown> = {}): Promise<JobRow> => {
    const { wait_ms: _w, ...parsed } = createJobBodySchema.parse({ task: 'noop', ...body });
    return (await jobs.create(actor, parsed)).job;
  };
  /** Starts attempt n of a row (the previous one, if any, closed as a lost attempt would be). */
  const runAttempt = async (row: JobRow): Promise<JobRow> => (await jobs.transition(row.id, 'running', { from: ['created', 'pending'], attempt: row.attempts, workerId: 'doomed' }))!;

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 5);
    jobs = new JobStore(db);
    actor = await new AccountStore(db).bootstrap('lost-attempts-operator-key-0001');
    queue = new JobQueue(createRedis(REDIS_URL, 'producer'), prefix);
  });
  afterAll(async () => {
    await queue.close();
    await queue.queue.disconnect();
    await db.$disconnect();
    await deleteKeysWithPrefix(prefix);
    await database.drop();
  });

  it('re-runs a lost attempt within max_attempts + MAX_STALLED_COUNT, then fails it worker_lost (callback pending)', async () => {
    let row = await insert({ max_attempts: 1, callback_url: 'http://127.0.0.1:9/hook' });
    row = await runAttempt(row);
    const first = await jobs.recoverLostAttempt(row.id, 1, { maxStalledCount: 1, workerId: 'w2', reason: 'stalled attempt recovered' });
    expect(first).toMatchObject({ verdict: 'retry', job: { status: 'pending', attempts: 1 } });
    row = await runAttempt(first!.job);
    expect(row.attempts).toBe(2);
    // A stale caller (the attempt already closed) changes nothing.
    expect(await jobs.recoverLostAttempt(row.id, 1, { maxStalledCount: 1, reason: 'late' })).toBeNull();
    const second = await jobs.recoverLostAttempt(row.id, 2, { maxStalledCount: 1, workerId: 'w3', reason: 'stalled attempt recovered' });
    expect(second).toMatchObject({ verdict: 'worker_lost', job: { status: 'failed', attempts: 2, stop_reason: 'worker_lost', error: { code: 'worker_lost' } } });
    // A terminal transition like any other: its callback series is due.
    expect(second!.job.callback_pending).toBe(true);
    expect(second!.job.completed_at).not.toBeNull();
    expect(await jobs.recoverLostAttempt(row.id, 2, { maxStalledCount: 1, reason: 'again' })).toBeNull();
    const evs = await jobs.eventsOf(row.id);
    expect(evs.map((e) => `${e.to}@${e.attempt}`)).toEqual(['created@0', 'running@1', 'pending@1', 'running@2', 'failed@2']);
  });

  it('MAX_STALLED_COUNT 0: a lost last attempt fails at once', async () => {
    const row = await runAttempt(await insert({ max_attempts: 1 }));
    const r = await jobs.recoverLostAttempt(row.id, 1, { maxStalledCount: 0, reason: 'stalled attempt recovered' });
    expect(r).toMatchObject({ verdict: 'worker_lost', job: { status: 'failed', stop_reason: 'worker_lost' } });
  });

  it('the reconciler settles a row whose queue entry BullMQ failed for stalling too often: failed/worker_lost, not stranded', async () => {
    let row = await insert({ max_attempts: 1 });
    await queue.enqueue(row);
    // Attempt 1 was lost and re-run once already (the budget of max_attempts 1 + MAX_STALLED_COUNT 1 is spent).
    row = await runAttempt(row);
    row = (await jobs.recoverLostAttempt(row.id, 1, { maxStalledCount: 1, reason: 'stalled attempt recovered' }))!.job;
    row = await runAttempt(row);
    expect(row.attempts).toBe(2);

    // A worker takes the entry and dies holding it; another worker's stall checker, whose limit is spent,
    // moves the entry to `failed` in Redis, leaving the row `running`.
    const dyingRedis = createRedis(REDIS_URL, 'worker');
    const checkerRedis = createRedis(REDIS_URL, 'worker');
    const dying = new Worker(JOBS_QUEUE, null, { connection: dyingRedis, prefix, lockDuration: 1000, skipVersionCheck: true, autorun: false });
    expect((await dying.getNextJob('dead-token'))?.id).toBe(row.id);
    await dying.close(true);
    await dying.disconnect();
    dyingRedis.disconnect();
    const checker = new Worker(JOBS_QUEUE, async () => undefined, {
      connection: checkerRedis,
      prefix,
      stalledInterval: 1000,
      maxStalledCount: 0,
      skipVersionCheck: true,
    });
    try {
      await waitFor(async () => (await queue.state(row.id)) === 'failed', 'BullMQ to fail the stalled entry', 20_000, 100);
    } finally {
      await checker.close();
      await checker.disconnect();
      checkerRedis.disconnect();
    }
    expect((await jobs.findById(row.id))!.status).toBe('running');

    const report = await new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0, workerId: 'reconciler', maxStalledCount: 1 }).sweepOnce();
    expect(report.recovered).toBe(0);
    expect(await jobs.findById(row.id)).toMatchObject({ status: 'failed', stop_reason: 'worker_lost', attempts: 2 });
    // Nothing requeued it.
    expect(await queue.state(row.id)).toBe('failed');
  });

  it('the reconciler still re-runs a lost attempt within the budget', async () => {
    const row = await runAttempt(await insert({ max_attempts: 2 }));
    const report = await new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0, maxStalledCount: 1 }).sweepOnce();
    expect(report.recovered).toBe(1);
    expect(await jobs.findById(row.id)).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await queue.state(row.id)).toBe('prioritized');
  });
});
