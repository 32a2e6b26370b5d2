import { createJobBodySchema, type Actor } from '../../packages/core/src';
import { AccountStore, JobStore, createDb, type Db, type JobRow } from '../../packages/db/src';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * JobStore batches concurrent creates, reads and transitions into shared statements. Each call must
 * still behave exactly as if it ran alone: its own row, its own guard and fence, its own event.
 */
describe('batched writes keep every per-job guarantee (real Postgres)', () => {
  let database: TestDatabase;
  let db: Db;
  let jobs: JobStore;
  let actor: Actor;

  const create = (i: number) => jobs.create(actor, createJobBodySchema.parse({ task: 'noop', metadata: { i } })).then((r) => r.job);
  const events = (ids: string[]) =>
    db.$queryRawUnsafe<{ job_id: string; seq: number; from_status: string | null; to_status: string; attempt: number; worker_id: string | null; reason: string | null }[]>(
      'SELECT job_id, seq, from_status, to_status, attempt, worker_id, reason FROM job_events WHERE job_id = ANY($1::text[]) ORDER BY job_id, seq',
      ids,
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDb(database.url, 10);
    jobs = new JobStore(db);
    const accounts = new AccountStore(db);
    const org = await accounts.createOrganization('batches');
    const user = await db.user.create({ data: { id: `user-${crypto.randomUUID()}`, organizationId: org.id, name: 'batcher' } });
    const key = await accounts.insertKey(user.id, org.id, 'member', `jsk_test_${crypto.randomUUID()}`);
    actor = { keyId: key.id, userId: user.id, organizationId: org.id, role: 'member' };
  });

  afterAll(async () => {
    await db.$disconnect();
    await database.drop();
  });

  it('creates 300 jobs at once: each caller gets its own row, each row one `created` event', async () => {
    const created = await Promise.all(Array.from({ length: 300 }, (_, i) => create(i)));
    expect(new Set(created.map((j) => j.id)).size).toBe(300);
    created.forEach((j, i) => expect(j).toMatchObject({ status: 'created', metadata: { i }, event_seq: 1, organization_id: actor.organizationId }));
    const ev = await events(created.map((j) => j.id));
    expect(ev).toHaveLength(300);
    expect(ev.every((e) => e.seq === 1 && e.from_status === null && e.to_status === 'created' && e.attempt === 0)).toBe(true);
  });

  it('reads many ids at once, null for unknown ones', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => create(i)));
    const ids = [...created.map((j) => j.id), `job-${crypto.randomUUID()}`];
    const read = await Promise.all(ids.map((id) => jobs.findById(id)));
    expect(read.slice(0, 50).map((r) => r?.id)).toEqual(created.map((j) => j.id));
    expect(read[50]).toBeNull();
  });

  it('runs 200 concurrent transitions of different jobs, each with its own options and event', async () => {
    const created = await Promise.all(Array.from({ length: 200 }, (_, i) => create(i)));
    const pending = await Promise.all(created.map((j, i) => jobs.transition(j.id, 'pending', { from: ['created'], reason: `queued ${i}` })));
    expect(pending.every((r) => r?.status === 'pending' && r.event_seq === 2)).toBe(true);
    const running = await Promise.all(created.map((j, i) => jobs.transition(j.id, 'running', { from: ['pending'], attempt: 0, workerId: `w${i % 3}` })));
    expect(running.every((r) => r?.status === 'running' && r.attempts === 1 && r.started_at !== null)).toBe(true);
    // Two shapes at once: half complete with their own result, half fail with their own error.
    const ended = await Promise.all(
      created.map((j, i) =>
        i % 2 === 0
          ? jobs.transition(j.id, 'completed', { from: ['running'], attempt: 1, workerId: 'w', result: { i } })
          : jobs.transition(j.id, 'failed', { from: ['running'], attempt: 1, workerId: 'w', error: { message: `boom ${i}`, code: 'task_error' } }),
      ),
    );
    ended.forEach((r, i) => {
      if (i % 2 === 0) expect(r).toMatchObject({ status: 'completed', result: { i }, stop_reason: 'end_turn', error: null });
      else expect(r).toMatchObject({ status: 'failed', error: { message: `boom ${i}`, code: 'task_error' }, stop_reason: 'error' });
      expect(r!.completed_at).not.toBeNull();
    });
    const ev = await events(created.map((j) => j.id));
    expect(ev).toHaveLength(800);
    const byJob = new Map<string, typeof ev>();
    for (const e of ev) byJob.set(e.job_id, [...(byJob.get(e.job_id) ?? []), e]);
    created.forEach((j, i) => {
      const mine = byJob.get(j.id)!;
      expect(mine.map((e) => [e.seq, e.from_status, e.to_status])).toEqual([
        [1, null, 'created'],
        [2, 'created', 'pending'],
        [3, 'pending', 'running'],
        [4, 'running', i % 2 === 0 ? 'completed' : 'failed'],
      ]);
      expect(mine[1]!.reason).toBe(`queued ${i}`);
      expect(mine[2]!.worker_id).toBe(`w${i % 3}`);
      expect(mine[3]!.attempt).toBe(1);
    });
  });

  it('keeps each row’s fence inside a shared statement: stale attempts lose, others win', async () => {
    const created = await Promise.all(Array.from({ length: 40 }, (_, i) => create(i)));
    await Promise.all(created.map((j) => jobs.transition(j.id, 'running', { from: ['created'], attempt: 0 })));
    const out = await Promise.all(
      created.map((j, i) => jobs.transition(j.id, 'completed', { from: ['running'], attempt: i % 2 === 0 ? 1 : 7, result: { i } })),
    );
    out.forEach((r, i) => (i % 2 === 0 ? expect(r?.status).toBe('completed') : expect(r).toBeNull()));
    const rows = await Promise.all(created.map((j) => jobs.findById(j.id)));
    rows.forEach((r, i) => expect(r!.status).toBe(i % 2 === 0 ? 'completed' : 'running'));
    const ev = await events(created.filter((_, i) => i % 2 === 1).map((j) => j.id));
    expect(ev.every((e) => e.to_status !== 'completed')).toBe(true);
  });

  it('lets exactly one of many concurrent identical transitions of one job win', async () => {
    const job = await create(0);
    const out = await Promise.all(Array.from({ length: 10 }, (_, i) => jobs.transition(job.id, 'running', { from: ['created'], attempt: 0, workerId: `w${i}` })));
    const winners = out.filter((r): r is JobRow => r !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.attempts).toBe(1);
    const ev = await events([job.id]);
    expect(ev.map((e) => e.to_status)).toEqual(['created', 'running']);
  });

  it('starts only unexpired rows when asked, judged by the same statement', async () => {
    const [fresh, stale] = await Promise.all([create(1), create(2)]);
    await db.$executeRawUnsafe(`UPDATE jobs SET expires_at = now() - interval '1 second' WHERE id = $1`, stale.id);
    await db.$executeRawUnsafe(`UPDATE jobs SET expires_at = now() + interval '1 hour' WHERE id = $1`, fresh.id);
    const [a, b] = await Promise.all([
      jobs.transition(fresh.id, 'running', { from: ['created', 'pending'], unlessExpired: true }),
      jobs.transition(stale.id, 'running', { from: ['created', 'pending'], unlessExpired: true }),
    ]);
    expect(a).toMatchObject({ status: 'running', attempts: 1 });
    expect(b).toBeNull();
    expect((await jobs.findById(stale.id))!.status).toBe('created');
  });

  it('announces each won transition once to listeners, with its own reason', async () => {
    const local = new JobStore(db);
    const heard: string[] = [];
    local.onTransition(({ job, event }) => heard.push(`${job.id}:${event.to}:${event.reason}`));
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => local.create(actor, createJobBodySchema.parse({ task: 'noop', metadata: { i } })).then((r) => r.job)));
    await Promise.all(created.map((j) => local.transition(j.id, 'cancelled', { reason: `stop ${j.id}` })));
    await Promise.all(created.map((j) => local.transition(j.id, 'cancelled', { reason: 'again' })));
    expect(heard.filter((h) => h.endsWith(':created:null'))).toHaveLength(20);
    expect(heard.filter((h) => h.includes(':cancelled:')).sort()).toEqual(created.map((j) => `${j.id}:cancelled:stop ${j.id}`).sort());
  });
  it('a claim through `pending` starts created and pending rows alike, with the same history and notices', async () => {
    const [a, b] = await Promise.all([create(1), create(2)]);
    await jobs.transition(b!.id, 'pending', { from: ['created'], reason: 'queued' });
    const heard: { id: string; seq: number; from: string | null; to: string; status: string }[] = [];
    jobs.onTransition(({ job, event }) => {
      if (job.id === a!.id || job.id === b!.id) heard.push({ id: job.id, seq: event.seq, from: event.from, to: event.to, status: job.status });
    });
    const claim = { from: ['created', 'pending'] as const, throughPending: true, unlessExpired: true, workerId: 'w-claim' };
    const [ra, rb] = await Promise.all([jobs.transition(a!.id, 'running', claim), jobs.transition(b!.id, 'running', claim)]);
    expect(ra).toMatchObject({ status: 'running', attempts: 1, event_seq: 3 });
    expect(rb).toMatchObject({ status: 'running', attempts: 1, event_seq: 3 });
    const ev = await events([a!.id, b!.id]);
    for (const id of [a!.id, b!.id]) {
      expect(ev.filter((e) => e.job_id === id).map((e) => [e.seq, e.from_status, e.to_status, e.attempt])).toEqual([
        [1, null, 'created', 0],
        [2, 'created', 'pending', 0],
        [3, 'pending', 'running', 1],
      ]);
    }
    expect(ev.find((e) => e.job_id === a!.id && e.seq === 2)).toMatchObject({ worker_id: 'w-claim', reason: 'queued' });
    // The row that was still `created` is announced twice, in order, as if both writes had been made.
    expect(heard.filter((h) => h.id === a!.id)).toEqual([
      { id: a!.id, seq: 2, from: 'created', to: 'pending', status: 'pending' },
      { id: a!.id, seq: 3, from: 'pending', to: 'running', status: 'running' },
    ]);
    expect(heard.filter((h) => h.id === b!.id)).toEqual([{ id: b!.id, seq: 3, from: 'pending', to: 'running', status: 'running' }]);
    // A second claim of the same attempt loses: the row is no longer created or pending.
    expect(await jobs.transition(a!.id, 'running', claim)).toBeNull();
  });
});
