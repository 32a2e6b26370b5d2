import { ConflictError, NotFoundError, createJobBodySchema, type Actor, type JobStatus } from '../../packages/core/src';
import { listJobsQuerySchema } from '../../apps/api/src/query-schemas';
import { AccountStore, JobStore, createDb, type Db, type TransitionNotice } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** Two organizations, each with a member; plus an operator of a third. */
interface World {
  alice: Actor;
  bob: Actor;
  operator: Actor;
}

describe('JobStore (real Postgres)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let w: World;

  const newJob = (actor: Actor, body: Record<string, unknown> = {}) =>
    jobs.create(actor, createJobBodySchema.parse({ task: 'noop', ...body })).then((r) => r.job);
  const eventRows = async (id: string) =>
    db.$queryRawUnsafe<{ seq: number; from_status: string | null; to_status: string; attempt: number }[]>(
      'SELECT seq, from_status, to_status, attempt FROM job_events WHERE job_id = $1 ORDER BY seq',
      id,
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 10);
    jobs = new JobStore(db);
    const accounts = new AccountStore(db);
    const actorFor = async (orgName: string, role: Actor['role']): Promise<Actor> => {
      const org = await accounts.createOrganization(orgName);
      const user = await db.user.create({ data: { id: `user-${crypto.randomUUID()}`, organizationId: org.id, name: `${orgName}-user` } });
      const key = await accounts.insertKey(user.id, org.id, role, `jsk_test_${crypto.randomUUID()}`);
      return { keyId: key.id, userId: user.id, organizationId: org.id, role };
    };
    w = { alice: await actorFor('alice-org', 'member'), bob: await actorFor('bob-org', 'member'), operator: await actorFor('platform', 'operator') };
  });

  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });

  describe('organization scoping', () => {
    it('hides another organization’s job (404), but an operator reads it by id', async () => {
      const job = await newJob(w.alice);
      await expect(jobs.get(w.bob, job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(jobs.events(w.bob, job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(jobs.cancel(w.bob, job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(jobs.retry(w.bob, job.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(jobs.delete(w.bob, job.id)).rejects.toBeInstanceOf(NotFoundError);
      expect((await jobs.get(w.alice, job.id)).id).toBe(job.id);
      expect((await jobs.get(w.operator, job.id)).id).toBe(job.id);
      // Bob's failed attempts changed nothing.
      expect((await jobs.get(w.alice, job.id)).status).toBe('created');
    });

    it('lists only the caller’s organization; an operator picks one with organization_id', async () => {
      const a = await newJob(w.alice, { agent_id: 'scoping' });
      const b = await newJob(w.bob, { agent_id: 'scoping' });
      const q = listJobsQuerySchema.parse({ agent_id: 'scoping' });
      expect((await jobs.list(w.alice, q)).map((j) => j.id)).toEqual([a.id]);
      expect((await jobs.list(w.bob, q)).map((j) => j.id)).toEqual([b.id]);
      expect(await jobs.list(w.operator, q)).toEqual([]);
      const forBob = listJobsQuerySchema.parse({ agent_id: 'scoping', organization_id: w.bob.organizationId });
      expect((await jobs.list(w.operator, forBob)).map((j) => j.id)).toEqual([b.id]);
      // organization_id means nothing from a non-operator: still its own organization.
      expect((await jobs.list(w.alice, forBob)).map((j) => j.id)).toEqual([a.id]);
    });

    it('stamps the creator’s organization and user on the row', async () => {
      const job = await newJob(w.bob);
      expect(job).toMatchObject({ organization_id: w.bob.organizationId, user_id: w.bob.userId, status: 'created', attempts: 0 });
    });
  });

  describe('the guarded transition', () => {
    it('follows the state machine: a write into a status the current one cannot reach changes nothing', async () => {
      const job = await newJob(w.alice);
      expect(await jobs.transition(job.id, 'completed')).toBeNull(); // created → completed is not allowed
      expect((await jobs.findById(job.id))!.status).toBe('created');
      expect((await eventRows(job.id)).length).toBe(1);
    });

    it('a stale attempt fence loses', async () => {
      const job = await newJob(w.alice);
      await jobs.transition(job.id, 'pending', { from: ['created'] });
      const first = await jobs.transition(job.id, 'running', { from: ['pending'], attempt: 0, workerId: 'w1' });
      expect(first!.attempts).toBe(1);
      // The attempt is recovered (stalled) and started again: attempt 2 now owns the row.
      await jobs.transition(job.id, 'pending', { from: ['running'], attempt: 1, reason: 'stalled' });
      const second = await jobs.transition(job.id, 'running', { from: ['pending'], attempt: 1, workerId: 'w2' });
      expect(second!.attempts).toBe(2);
      // The first worker wakes up late and reports: fenced out.
      expect(await jobs.transition(job.id, 'completed', { from: ['running'], attempt: 1, result: { stale: true } })).toBeNull();
      expect(await jobs.reportProgress(job.id, 1, { percent: 50, message: 'stale' })).toBe(false);
      const done = await jobs.transition(job.id, 'completed', { from: ['running'], attempt: 2, result: { fresh: true } });
      expect(done).toMatchObject({ status: 'completed', result: { fresh: true }, stop_reason: 'end_turn', attempts: 2 });
      expect(done!.completed_at).toBeInstanceOf(Date);
      expect((await eventRows(job.id)).map((e) => `${e.from_status}>${e.to_status}@${e.attempt}`)).toEqual([
        'null>created@0',
        'created>pending@0',
        'pending>running@1',
        'running>pending@1',
        'pending>running@2',
        'running>completed@2',
      ]);
    });

    it('two writers racing for one transition: exactly one wins, one event per win (50 rounds)', async () => {
      for (let round = 0; round < 50; round++) {
        const job = await newJob(w.alice);
        await jobs.transition(job.id, 'pending', { from: ['created'] });
        const results = await Promise.all([
          jobs.transition(job.id, 'running', { from: ['pending'], attempt: 0, workerId: 'a' }),
          jobs.transition(job.id, 'running', { from: ['pending'], attempt: 0, workerId: 'b' }),
        ]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        const row = (await jobs.findById(job.id))!;
        expect(row).toMatchObject({ status: 'running', attempts: 1 });
        const events = await eventRows(job.id);
        expect(events.filter((e) => e.to_status === 'running')).toHaveLength(1);
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      }
    });

    it('many writers racing for different exits of one running attempt: exactly one wins (30 rounds)', async () => {
      for (let round = 0; round < 30; round++) {
        const job = await newJob(w.alice);
        await jobs.transition(job.id, 'running', { attempt: 0 });
        const exits: JobStatus[] = ['completed', 'failed', 'cancelled', 'expired', 'pending', 'completed', 'failed', 'cancelled'];
        const results = await Promise.all(exits.map((to, i) => jobs.transition(job.id, to, { from: ['running'], attempt: 1, workerId: `w${i}` })));
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        const row = (await jobs.findById(job.id))!;
        expect(row.status).toBe(winners[0]!.status);
        const events = await eventRows(job.id);
        expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
        expect(events[2]!.to_status).toBe(row.status);
      }
    });

    it('completion racing a cancel: exactly one terminal status and one terminal event (50 rounds)', async () => {
      const outcomes = new Set<JobStatus>();
      for (let round = 0; round < 50; round++) {
        const job = await newJob(w.alice);
        await jobs.transition(job.id, 'pending', { from: ['created'] });
        await jobs.transition(job.id, 'running', { from: ['pending'], attempt: 0 });
        const [completed, cancelled] = await Promise.all([
          jobs.transition(job.id, 'completed', { from: ['running'], attempt: 1, result: 1 }),
          jobs.cancel(w.alice, job.id).catch((err: unknown) => {
            if (err instanceof ConflictError) return null;
            throw err;
          }),
        ]);
        expect([completed, cancelled].filter((r) => r !== null)).toHaveLength(1);
        const row = (await jobs.findById(job.id))!;
        outcomes.add(row.status);
        const terminal = (await eventRows(job.id)).filter((e) => ['completed', 'cancelled'].includes(e.to_status));
        expect(terminal).toHaveLength(1);
        expect(terminal[0]!.to_status).toBe(row.status);
      }
      expect([...outcomes].every((s) => s === 'completed' || s === 'cancelled')).toBe(true);
    });

    it('tells listeners about every winning write, and only those', async () => {
      const heard: TransitionNotice[] = [];
      const local = new JobStore(db);
      local.onTransition((n) => heard.push(n));
      const job = (await local.create(w.alice, createJobBodySchema.parse({ task: 'noop' }))).job;
      await local.transition(job.id, 'pending', { from: ['created'] });
      await local.transition(job.id, 'pending', { from: ['created'] }); // loses
      expect(heard.map((n) => [n.event.from, n.event.to, n.event.seq])).toEqual([
        [null, 'created', 1],
        ['created', 'pending', 2],
      ]);
    });
  });

  describe('cancel, retry, delete', () => {
    it('cancel from created, pending and running sets stop_reason and completed_at', async () => {
      for (const path of [[], ['pending'], ['pending', 'running']] as JobStatus[][]) {
        const job = await newJob(w.alice);
        for (const to of path) await jobs.transition(job.id, to);
        const c = await jobs.cancel(w.alice, job.id);
        expect(c).toMatchObject({ status: 'cancelled', stop_reason: 'cancelled' });
        expect(c.completed_at).toBeInstanceOf(Date);
      }
    });

    it('cancel of a terminal job is a 409 naming its status', async () => {
      const job = await newJob(w.alice);
      await jobs.transition(job.id, 'running');
      await jobs.transition(job.id, 'completed', { result: {} });
      await expect(jobs.cancel(w.alice, job.id)).rejects.toThrow(/completed/);
      await expect(jobs.cancel(w.alice, job.id)).rejects.toBeInstanceOf(ConflictError);
    });

    it('retry resets the outcome and goes back to pending; non-retryable states are 409', async () => {
      const job = await newJob(w.alice, { callback_url: 'http://127.0.0.1:9/hook' });
      await expect(jobs.retry(w.alice, job.id)).rejects.toBeInstanceOf(ConflictError); // created
      await jobs.transition(job.id, 'running');
      await expect(jobs.retry(w.alice, job.id)).rejects.toBeInstanceOf(ConflictError); // running
      await jobs.transition(job.id, 'failed', { error: { message: 'boom', code: 'task_error' } });
      await db.$executeRawUnsafe(`UPDATE jobs SET callback_sent_at = now(), callback_status_code = 500, callback_error = 'x', callback_attempts = 3, progress = '{"percent":10,"message":null}' WHERE id = $1`, job.id);
      const r = await jobs.retry(w.alice, job.id);
      expect(r).toMatchObject({
        status: 'pending',
        completed_at: null,
        stop_reason: null,
        error: null,
        result: null,
        progress: null,
        callback_sent_at: null,
        callback_status_code: null,
        callback_error: null,
        callback_attempts: 0,
        attempts: 1,
      });
      // The next attempt runs under the next fence.
      expect((await jobs.transition(job.id, 'running', { from: ['pending'], attempt: 1 }))!.attempts).toBe(2);
      await jobs.transition(job.id, 'completed', { attempt: 2 });
      await expect(jobs.retry(w.alice, job.id)).rejects.toThrow(/completed/);
      const events = await eventRows(job.id);
      expect(events.map((e) => e.to_status)).toEqual(['created', 'running', 'failed', 'pending', 'running', 'completed']);
    });

    it('retry works from cancelled and expired too', async () => {
      for (const terminal of ['cancelled', 'expired'] as const) {
        const job = await newJob(w.alice);
        await jobs.transition(job.id, terminal);
        expect((await jobs.retry(w.alice, job.id)).status).toBe('pending');
      }
    });

    it('delete cancels a live job first, returns it, and removes row and events', async () => {
      const job = await newJob(w.alice);
      await jobs.transition(job.id, 'pending');
      const deleted = await jobs.delete(w.alice, job.id);
      expect(deleted).toMatchObject({ id: job.id, status: 'cancelled', stop_reason: 'cancelled' });
      expect(await jobs.findById(job.id)).toBeNull();
      expect(await eventRows(job.id)).toEqual([]);
      await expect(jobs.get(w.alice, job.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('delete of a terminal job keeps its status', async () => {
      const job = await newJob(w.alice);
      await jobs.transition(job.id, 'failed');
      expect((await jobs.delete(w.alice, job.id)).status).toBe('failed');
    });
  });

  describe('events', () => {
    it('are the status history oldest first, creation first', async () => {
      const job = await newJob(w.alice);
      await jobs.transition(job.id, 'pending', { reason: 'queued' });
      await jobs.transition(job.id, 'running', { workerId: 'worker-7' });
      await jobs.transition(job.id, 'completed', { result: 'ok' });
      const events = await jobs.events(w.alice, job.id);
      expect(events.map(({ seq, from, to, attempt, worker_id, reason }) => ({ seq, from, to, attempt, worker_id, reason }))).toEqual([
        { seq: 1, from: null, to: 'created', attempt: 0, worker_id: null, reason: null },
        { seq: 2, from: 'created', to: 'pending', attempt: 0, worker_id: null, reason: 'queued' },
        { seq: 3, from: 'pending', to: 'running', attempt: 1, worker_id: 'worker-7', reason: null },
        { seq: 4, from: 'running', to: 'completed', attempt: 1, worker_id: null, reason: null },
      ]);
      const times = events.map((e) => Date.parse(e.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      expect(events.every((e) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(e.at))).toBe(true);
      expect((await jobs.eventsOf(job.id, 2)).map((e) => e.seq)).toEqual([3, 4]);
    });
  });

  describe('idempotency', () => {
    it('returns the original job for the same key and body, 409 for another body, and races create one row', async () => {
      const body = createJobBodySchema.parse({ task: 'noop', idempotency_key: 'idem-1', metadata: { a: 1, b: 2 } });
      const same = createJobBodySchema.parse({ task: 'noop', idempotency_key: 'idem-1', metadata: { b: 2, a: 1 } });
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) => jobs.create(w.alice, i % 2 ? same : body)));
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      await expect(jobs.create(w.alice, createJobBodySchema.parse({ task: 'noop', idempotency_key: 'idem-1' }))).rejects.toBeInstanceOf(ConflictError);
      // Keys are per organization.
      expect((await jobs.create(w.bob, body)).created).toBe(true);
    });
  });
});
