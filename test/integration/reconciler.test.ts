import { createJobBodySchema, type Actor } from '../../packages/core/src';
import { AccountStore, JobStore, ReconcilerStore, createDb, type Db, type JobRow } from '../../packages/db/src';
import { createLogger } from '../../packages/observability/src';
import { JobQueue, createRedis } from '../../packages/queue/src';
import { Reconciler, type ReconcilerOptions } from '../../apps/worker/src/reconciler';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { REDIS_URL } from '../support/env';
import { deleteKeysWithPrefix, testPrefix } from '../support/redis';

const logger = createLogger({ level: 'error', service: 'test' });

describe('Reconciler (reconciler and expiry)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let actor: Actor;
  const prefix = testPrefix();
  const queues: JobQueue[] = [];

  const queue = () => {
    const q = new JobQueue(createRedis(REDIS_URL, 'producer'), prefix);
    queues.push(q);
    return q;
  };
  const reconciler = (opts: ReconcilerOptions = {}) => new Reconciler(new ReconcilerStore(db), jobs, queue(), logger, { minAgeMs: 0, ...opts });
  /** A row as the API inserts it, without the enqueue that normally follows (an API crash at that moment). */
  const insert = async (body: Record<string, unknown> = {}): Promise<JobRow> => {
    const { wait_ms: _w, ...parsed } = createJobBodySchema.parse({ task: 'noop', ...body });
    return (await jobs.create(actor, parsed)).job;
  };
  const stateOf = (id: string) => queues[0]!.queue.getJobState(id);
  const events = (id: string) => jobs.eventsOf(id);

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 5);
    jobs = new JobStore(db);
    actor = await new AccountStore(db).bootstrap('reconciler-test-operator-key-0001');
    queue();
  });
  afterAll(async () => {
    for (const q of queues) {
      await q.close();
      await q.queue.disconnect();
    }
    await db.$disconnect();
    await deleteKeysWithPrefix(prefix);
    await database.drop();
  });

  it('enqueues a created row that never reached the queue, once', async () => {
    const row = await insert();
    const s = reconciler();
    const first = await s.sweepOnce();
    expect(first.enqueued).toBeGreaterThanOrEqual(1);
    expect(await stateOf(row.id)).toBe('prioritized');
    expect((await jobs.findById(row.id))!.status).toBe('pending');
    const second = await s.sweepOnce();
    expect(second.enqueued).toBe(0);
    expect((await events(row.id)).map((e) => e.to)).toEqual(['created', 'pending']);
    await queues[0]!.queue.remove(row.id);
    await jobs.transition(row.id, 'cancelled', {});
  });

  it('enqueues a row the API inserted `pending` but never queued (a crash after the insert), keeping its delay and history', async () => {
    const { wait_ms: _w, ...parsed } = createJobBodySchema.parse({ task: 'noop', delay_ms: 60_000 });
    const row = (await jobs.create(actor, parsed, { queued: true })).job;
    expect(row.status).toBe('pending');
    const report = await reconciler().sweepOnce();
    expect(report.enqueued).toBeGreaterThanOrEqual(1);
    expect(await stateOf(row.id)).toBe('delayed');
    const bull = await queues[0]!.queue.getJob(row.id);
    expect(Math.abs(bull!.timestamp + bull!.delay - row.run_at!.getTime())).toBeLessThan(1000);
    expect((await events(row.id)).map((e) => e.to)).toEqual(['created', 'pending']);
    await jobs.transition(row.id, 'cancelled', {});
    await queues[0]!.queue.remove(row.id);
  });

  it('returns a row inserted `pending` to `created` when its add failed, and only while nothing else moved it', async () => {
    const { wait_ms: _w, ...parsed } = createJobBodySchema.parse({ task: 'noop' });
    const a = (await jobs.create(actor, parsed, { queued: true })).job;
    const b = (await jobs.create(actor, parsed, { queued: true })).job;
    await jobs.transition(b.id, 'cancelled', {});
    const back = await jobs.unqueue([a.id, b.id]);
    expect(back.map((j) => [j.id, j.status, j.event_seq])).toEqual([[a.id, 'created', 1]]);
    expect((await events(a.id)).map((e) => e.to)).toEqual(['created']);
    expect((await events(b.id)).map((e) => e.to)).toEqual(['created', 'pending', 'cancelled']);
    await jobs.transition(a.id, 'cancelled', {});
  });

  it('keeps the delay of a delayed row it re-enqueues', async () => {
    const row = await insert({ delay_ms: 60_000 });
    await reconciler().sweepOnce();
    expect(await stateOf(row.id)).toBe('delayed');
    const bull = await queues[0]!.queue.getJob(row.id);
    const runsAt = bull!.timestamp + bull!.delay;
    expect(Math.abs(runsAt - row.run_at!.getTime())).toBeLessThan(1000);
    await jobs.transition(row.id, 'cancelled', {});
    await queues[0]!.queue.remove(row.id);
  });

  it('promotes a created row whose queue entry exists without enqueueing it again', async () => {
    const row = await insert();
    await queues[0]!.enqueue(row);
    const report = await reconciler().sweepOnce();
    expect(report.promoted).toBe(1);
    expect(report.enqueued).toBe(0);
    expect((await jobs.findById(row.id))!.status).toBe('pending');
    await jobs.transition(row.id, 'cancelled', {});
    await queues[0]!.queue.remove(row.id);
  });

  it('recovers a running row whose queue entry is gone, fenced by its attempt', async () => {
    const row = await insert();
    const running = (await jobs.transition(row.id, 'running', { from: ['created'], attempt: 0, workerId: 'dead-worker' }))!;
    expect(running.attempts).toBe(1);
    const report = await reconciler({ workerId: 'reconciler-1' }).sweepOnce();
    expect(report.recovered).toBe(1);
    expect(await stateOf(row.id)).toBe('prioritized');
    const evs = await events(row.id);
    expect(evs.map((e) => e.to)).toEqual(['created', 'running', 'pending']);
    expect(evs[2]).toMatchObject({ from: 'running', attempt: 1, worker_id: 'reconciler-1' });
    // The dead attempt's late write loses: the row left `running` under attempt 1.
    expect(await jobs.transition(row.id, 'completed', { from: ['running'], attempt: 1 })).toBeNull();
    await jobs.transition(row.id, 'cancelled', {});
    await queues[0]!.queue.remove(row.id);
  });

  it('leaves a running row alone while its queue entry is live', async () => {
    const row = await insert();
    await queues[0]!.enqueue(row);
    await jobs.transition(row.id, 'running', { from: ['created'], attempt: 0 });
    const report = await reconciler().sweepOnce();
    expect(report.recovered).toBe(0);
    expect((await jobs.findById(row.id))!.status).toBe('running');
    await jobs.transition(row.id, 'cancelled', {});
    await queues[0]!.queue.remove(row.id);
  });

  it('expires rows past expires_at that never started, and not running ones', async () => {
    const soon = new Date(Date.now() + 300).toISOString();
    const waiting = await insert({ expires_at: soon });
    await queues[0]!.enqueue(waiting);
    await jobs.transition(waiting.id, 'pending', { from: ['created'] });
    const running = await insert({ expires_at: soon });
    await queues[0]!.enqueue(running);
    await jobs.transition(running.id, 'running', { from: ['created'], attempt: 0 });
    await new Promise((r) => setTimeout(r, 400));
    const report = await reconciler().sweepOnce();
    expect(report.expired).toBe(1);
    const row = (await jobs.findById(waiting.id))!;
    expect(row).toMatchObject({ status: 'expired', stop_reason: 'expired' });
    expect(row.completed_at).not.toBeNull();
    expect(await stateOf(waiting.id)).toBe('unknown');
    expect((await jobs.findById(running.id))!.status).toBe('running');
    await jobs.transition(running.id, 'cancelled', {});
    await queues[0]!.queue.remove(running.id);
  });

  it('leaves rows younger than minAgeMs alone (a create may be in flight)', async () => {
    const row = await insert();
    const report = await reconciler({ minAgeMs: 60_000 }).sweepOnce();
    expect(report.enqueued + report.promoted).toBe(0);
    expect(await stateOf(row.id)).toBe('unknown');
    expect((await jobs.findById(row.id))!.status).toBe('created');
    await jobs.transition(row.id, 'cancelled', {});
  });

  it('is safe when several processes sweep at once', async () => {
    const created = await Promise.all(Array.from({ length: 20 }, () => insert()));
    const running = await Promise.all(Array.from({ length: 5 }, () => insert()));
    for (const r of running) await jobs.transition(r.id, 'running', { from: ['created'], attempt: 0 });
    const reports = await Promise.all(Array.from({ length: 4 }, () => reconciler().sweepOnce()));
    expect(reports.reduce((n, r) => n + r.recovered, 0)).toBe(5);
    const counts = await queues[0]!.queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
    expect(counts['prioritized']).toBe(25);
    for (const r of [...created, ...running]) {
      const row = (await jobs.findById(r.id))!;
      expect(row.status).toBe('pending');
      const evs = await events(r.id);
      // One `created → pending` or one `running → pending`, however many reconciler instances raced.
      expect(evs.filter((e) => e.to === 'pending')).toHaveLength(1);
    }
    await queues[0]!.queue.drain();
    for (const r of [...created, ...running]) await jobs.transition(r.id, 'cancelled', {});
  });

  it('runs extra steps after its own and reports their counts, isolating a failing one', async () => {
    const s = reconciler({
      steps: [
        { name: 'callbacks', run: async () => 3 },
        {
          name: 'broken',
          run: async () => {
            throw new Error('boom');
          },
        },
      ],
    });
    s.addStep({ name: 'late', run: async () => 1 });
    const report = await s.sweepOnce();
    expect(report.extra).toEqual({ callbacks: 3, broken: -1, late: 1 });
  });
});
