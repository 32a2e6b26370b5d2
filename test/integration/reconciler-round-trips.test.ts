import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Actor } from '../../packages/core/src';
import { AccountStore, JobStore, ReconcilerStore, createDb, type Db } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { JOB_RETENTION, JobQueue, createRedis, waitReady } from '../../packages/queue/src';
import { Reconciler } from '../../apps/worker/src/reconciler';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';
import { waitFor } from '../support/wait';

const logger = createLogger({ level: 'error', service: 'test' });

/** Counts the writes of one ioredis connection to its socket: one per command, one per pipeline or MULTI. */
function countRoundTrips(redis: Redis): { readonly count: number } {
  const counter = { count: 0 };
  const stream = (redis as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
  const write = stream.write.bind(stream);
  stream.write = (...args: unknown[]) => {
    counter.count++;
    return write(...args);
  };
  return counter;
}

/**
 * Issue 10 item 10: the reconciler's Redis cost per page of stale rows must not grow with the rows in it
 * (it made one call per row, one after another, plus a few per re-enqueue).
 */
describe('Reconciler: Redis round trips per sweep', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let actor: Actor;
  let connection: Redis;
  let queue: JobQueue;
  const prefix = testPrefix();

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 5);
    jobs = new JobStore(db);
    actor = await new AccountStore(db).bootstrap('reconciler-rt-operator-key-000001');
    connection = createRedis(REDIS_URL, 'producer');
    await waitReady(connection, 5000);
    queue = new JobQueue(connection, prefix);
  });
  afterAll(async () => {
    await queue.close();
    connection.disconnect();
    await db.$disconnect();
    await deleteKeysWithPrefix(prefix);
    await database.drop();
  });

  /** `n` pending rows, untouched for a minute, inserted in one statement; returns their ids. */
  const insertPending = async (n: number): Promise<string[]> => {
    const rows = await db.$queryRawUnsafe<{ id: string }[]>(
      `INSERT INTO jobs (id, organization_id, user_id, task, status, created_at, updated_at)
       SELECT 'job-' || gen_random_uuid(), $1, $2, 'noop', 'pending', now() - interval '1 minute', now() - interval '1 minute'
       FROM generate_series(1, $3::int) RETURNING id`,
      actor.organizationId,
      actor.userId,
      n,
    );
    return rows.map((r) => r.id);
  };
  /** Queue entries for some rows (as the API left them); the others are missing from Redis. */
  const enqueue = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += 1000) {
      await queue.queue.addBulk(ids.slice(i, i + 1000).map((id) => ({ name: 'noop', data: { organization_id: actor.organizationId }, opts: { jobId: id, ...JOB_RETENTION } })));
    }
  };
  /** Sweeps `n` fresh pending rows, half of them with a queue entry, and returns the round trips it took. */
  const sweepRoundTrips = async (n: number): Promise<number> => {
    const ids = await insertPending(n);
    await enqueue(ids.slice(0, n / 2));
    const reconciler = new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0 });
    const trips = countRoundTrips(connection);
    const report = await reconciler.sweepOnce();
    const count = trips.count;
    expect(report.enqueued).toBe(n / 2);
    for (const id of ids) expect(['waiting', 'prioritized']).toContain(await queue.state(id));
    // Leave them finished for the next measurement: rows cancelled, entries gone.
    await db.$executeRawUnsafe(`UPDATE jobs SET status = 'cancelled' WHERE id = ANY($1::text[])`, ids);
    await queue.queue.drain();
    return count;
  };

  it('does not grow with the number of stale rows in a page', async () => {
    await sweepRoundTrips(4); // warm-up: scripts loaded, connection settled
    const few = await sweepRoundTrips(10);
    const many = await sweepRoundTrips(160);
    console.log(`reconciler round trips to Redis: ${few} for 10 stale rows, ${many} for 160`);
    expect(many).toBeLessThanOrEqual(few + 2);
  });

  it('reads every queue state as BullMQ does, and tells a missing id from an orphaned job hash', async () => {
    const q = queue.queue;
    const data = { organization_id: actor.organizationId };
    const wconn = createRedis(REDIS_URL, 'worker');
    const worker = new Worker(
      'jobs',
      async (job) => {
        if (job.name === 'fail') throw new Error('planned');
        return {};
      },
      { connection: wconn, prefix, skipVersionCheck: true },
    );
    await q.add('ok', data, { jobId: 'st-completed' });
    await q.add('fail', data, { jobId: 'st-failed' });
    await waitFor(async () => (await q.getJobState('st-completed')) === 'completed' && (await q.getJobState('st-failed')) === 'failed', 'both finished');
    await worker.close();
    wconn.disconnect();
    await q.add('noop', data, { jobId: 'st-waiting' });
    await q.add('noop', data, { jobId: 'st-delayed', delay: 60_000 });
    await q.add('noop', data, { jobId: 'st-prioritized', priority: 5 });
    await connection.hset(q.toKey('st-orphan'), 'name', 'noop');
    // A wait list long enough that the script reads it in chunks instead of one LPOS per id.
    const bulk = Array.from({ length: 3500 }, (_, i) => `st-bulk-${i}`);
    for (let i = 0; i < bulk.length; i += 500) await q.addBulk(bulk.slice(i, i + 500).map((jobId) => ({ name: 'noop', data, opts: { jobId } })));
    const ids = ['st-completed', 'st-failed', 'st-waiting', 'st-delayed', 'st-prioritized', 'st-orphan', 'st-missing', ...bulk.filter((_, i) => i % 175 === 0), 'st-bulk-3499'];
    const states = await queue.states(ids);
    for (const id of ids) {
      const bull = await q.getJobState(id);
      expect([id, states.get(id) === 'missing' ? 'unknown' : states.get(id)]).toEqual([id, bull]);
    }
    expect(states.get('st-orphan')).toBe('unknown');
    expect(states.get('st-missing')).toBe('missing');
    await q.obliterate({ force: true });
  });

  it('re-enqueues a pending row whose queue entry finished (removing the old entry first)', async () => {
    const [id] = await insertPending(1);
    await queue.queue.add('noop', { organization_id: actor.organizationId }, { jobId: id! });
    const wconn = createRedis(REDIS_URL, 'worker');
    const worker = new Worker('jobs', async () => ({}), { connection: wconn, prefix, skipVersionCheck: true });
    await waitFor(async () => (await queue.state(id!)) === 'completed', 'the entry to complete');
    await worker.close();
    wconn.disconnect();
    const report = await new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0 }).sweepOnce();
    expect(report.enqueued).toBeGreaterThanOrEqual(1);
    expect(await queue.state(id!)).toBe('prioritized');
    await db.$executeRawUnsafe(`UPDATE jobs SET status = 'cancelled' WHERE id = $1`, id);
    await queue.queue.obliterate({ force: true });
  });

  // A one-off measurement (SWEEP_BENCH_ROWS=100000): every stale row looked at once over as many sweeps as it takes.
  const benchRows = Number(process.env.SWEEP_BENCH_ROWS ?? 0);
  (benchRows > 0 ? it : it.skip)(
    `sweeps ${benchRows} pending rows, half of them missing from the queue`,
    async () => {
      const ids = await insertPending(benchRows);
      await enqueue(ids.filter((_, i) => i % 2 === 0));
      const pageSize = process.env.SWEEP_BENCH_PAGE ? { pageSize: Number(process.env.SWEEP_BENCH_PAGE) } : {};
      const reconciler = new Reconciler(new ReconcilerStore(db), jobs, queue, logger, { minAgeMs: 0, ...pageSize });
      const started = Date.now();
      const sweeps: number[] = [];
      let scanned = 0;
      let enqueued = 0;
      // SWEEP_BENCH_SWEEPS caps the sweeps (the code before the fix needed minutes for one).
      const maxSweeps = Number(process.env.SWEEP_BENCH_SWEEPS ?? Infinity);
      while (scanned < benchRows && sweeps.length < maxSweeps) {
        const t = Date.now();
        const r = await reconciler.sweepOnce();
        sweeps.push(Date.now() - t);
        scanned += r.scanned;
        enqueued += r.enqueued;
        if (r.scanned === 0) break;
      }
      const total = Date.now() - started;
      console.log(
        `reconciler over ${benchRows} pending rows (${benchRows / 2} missing from the queue): ${total} ms in ${sweeps.length} sweeps ` +
          `(per sweep of up to 10,000 rows: ${Math.min(...sweeps)}-${Math.max(...sweeps)} ms)`,
      );
      if (sweeps.length < maxSweeps) expect(enqueued).toBe(benchRows / 2);
    },
    3_600_000,
  );
});
