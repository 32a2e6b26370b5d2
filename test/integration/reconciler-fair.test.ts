import { createJobBodySchema, type Actor } from '../../packages/core/src';
import { AccountStore, JobStore, ReconcilerStore, createDb, type Db, type JobRow } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { JobQueue, createRedis } from '../../packages/queue/src';
import { Reconciler } from '../../apps/worker/src/reconciler';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';

const logger = createLogger({ level: 'error', service: 'test' });

/**
 * The reconciler under fair scheduling (SPEC F16): a staged job counts as queued, and one lost between the fair
 * pick and its BullMQ add (a dispatcher that died in between) is staged again, not added around the turns.
 */
describe('Reconciler with fair dispatch', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let actor: Actor;
  let queue: JobQueue;
  const prefix = testPrefix();

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 5);
    jobs = new JobStore(db);
    actor = await new AccountStore(db).bootstrap('reconciler-fair-operator-key-0001');
    // No worker announces slots: nothing is dispatched unless a test picks by hand.
    queue = new JobQueue(createRedis(REDIS_URL, 'producer'), prefix, { leaseMs: 30_000, backlog: undefined, onError: (err) => { throw err; } });
  });
  afterAll(async () => {
    await queue.close();
    await queue.queue.disconnect();
    await db.$disconnect();
    await deleteKeysWithPrefix(prefix);
    await database.drop();
  });

  const insert = async (body: Record<string, unknown> = {}): Promise<JobRow> => {
    const { wait_ms: _w, ...parsed } = createJobBodySchema.parse({ task: 'noop', ...body });
    return (await jobs.create(actor, parsed)).job;
  };
  const reconciler = () => new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0 });

  it('stages a row that never reached the queue, and leaves a staged one alone', async () => {
    const row = await insert({ concurrency_key: 'k', concurrency_limit: 2 });
    const first = await reconciler().sweepOnce();
    expect(first.enqueued).toBe(1);
    expect(await queue.fair!.staged([row.id])).toEqual(new Set([row.id]));
    expect(await queue.queue.getJob(row.id)).toBeUndefined();
    expect((await jobs.findById(row.id))!.status).toBe('pending');
    expect((await queue.states([row.id])).get(row.id)).toBe('staged');
    expect((await reconciler().sweepOnce()).enqueued).toBe(0);
  });

  it('stages again a job lost between the fair pick and its add, with its concurrency key', async () => {
    const row = await insert({ concurrency_key: 'lost', concurrency_limit: 1 });
    await queue.enqueue(row);
    // A worker's slots appear (after the enqueue's own dispatch, which found none); then the dispatcher's pick and
    // a crash before its addBulk: the job is neither staged nor in BullMQ.
    await queue.fair!.registerCapacity('worker-gone', 10, 60_000);
    const picked = await queue.fair!.pick(100);
    expect(picked.map((p) => p.id)).toContain(row.id);
    await queue.fair!.unregisterCapacity('worker-gone');
    expect((await queue.states([row.id])).get(row.id)).toBe('missing');
    const report = await reconciler().sweepOnce();
    // Every picked job was lost (the first test's staged job too).
    expect(report.enqueued).toBe(picked.length);
    expect(await queue.fair!.staged([row.id])).toEqual(new Set([row.id]));
    // Staged, not added around the turns: BullMQ has no entry until a dispatch picks it.
    expect(await queue.queue.getJob(row.id)).toBeUndefined();
  });
});
